import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, formatDuration, formatProgressLine } from '../../src/cli/progress.js';

test('durations format as mm:ss or h:mm:ss', () => {
  assert.equal(formatDuration(0), '00:00');
  assert.equal(formatDuration(75.4), '01:15');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(NaN), '--:--');
});

test('a progress line shows stage, bar, k/N and an ETA from the pace so far', () => {
  const line = formatProgressLine({ stage: 'invert', step: 3, total: 13 }, 6, 10);
  assert.match(line, /^invert {5}/);
  assert.match(line, /█{2}░{8}/);
  assert.match(line, /3\/13/);
  assert.match(line, /ETA 00:20$/); // 2 s per step, 10 steps left
  assert.match(formatProgressLine({ stage: 'decode', step: 4, total: 4 }, 65), /done in 01:05$/);
});

test('off a terminal, lines are throttled but every stage end is printed; quiet prints nothing', () => {
  let out = '';
  let t = 0;
  const stream = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  const p = createProgress({ stream, now: () => t });
  for (let k = 1; k <= 13; k++) {
    t += 1;
    p.update({ stage: 'denoise', step: k, total: 13 });
  }
  p.done();
  const lines = out.trim().split('\n');
  assert.ok(lines.length >= 2 && lines.length <= 5, `got ${lines.length} lines`);
  assert.match(lines.at(-1)!, /13\/13 {2}done in 00:12/);
  let quietOut = '';
  const q = createProgress({ quiet: true, stream: { isTTY: true, write: (s: string) => ((quietOut += s), true) } as unknown as NodeJS.WriteStream });
  q.update({ stage: 'x', step: 1, total: 1 });
  assert.equal(quietOut, '');
});
