/** The edit's one live progress line: overall fraction and ETA across blocks, fitting the terminal, plain lines in logs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEditDisplay, editLineParts, fitParts } from '../../src/cli/edit-progress.js';
import { progressTracker, BLOCK_STAGES, type EditProgress, type StageEvent } from '../../src/edit/progress.js';

/** The events of `blocks` blocks of `steps` UNet steps; each event advances the clock by the stage's cost. */
function* events(blocks: number, steps: number): Generator<[StageEvent, number]> {
  const cost: Record<string, number> = { read: 0.1, encode: 1, invert: 2, denoise: 4, decode: 1 };
  for (let b = 1; b <= blocks; b++) {
    for (const stage of BLOCK_STAGES) {
      const total = stage === 'invert' || stage === 'denoise' ? steps : 1;
      for (let k = 0; k <= total; k++) yield [{ stage, step: k, total, block: b, blocks }, k === 0 ? 0 : cost[stage] / total];
    }
  }
  yield [{ stage: 'write', step: 10, total: 10 }, 0];
}

test('overall progress: monotone from 0 to 1 over all blocks; from block 2 on the ETA is exact for equal blocks', () => {
  let t = 0;
  const track = progressTracker(() => t);
  let last = 0;
  const perBlock = 0.1 + 1 + 2 + 4 + 1;
  const errors: number[] = [];
  for (const [e, dt] of events(3, 7)) {
    t += dt;
    const o = track(e);
    assert.ok(o.fraction >= last - 1e-12 && o.fraction <= 1, `${e.stage} ${e.block}: ${o.fraction} after ${last}`);
    last = o.fraction;
    if (e.block && e.block >= 2 && o.etaSeconds !== null) errors.push(Math.abs(o.etaSeconds - (3 * perBlock - t)));
  }
  assert.equal(last, 1);
  assert.ok(errors.length > 10 && Math.max(...errors) < 0.75, `ETA error from block 2 on ≤ ${Math.max(...errors).toFixed(3)} s`);
});

test('download and load do not move the overall fraction; ETA is unknown until work is done', () => {
  const track = progressTracker(() => 0);
  const { fraction, etaSeconds, elapsedSeconds, block } = track({ stage: 'download', step: 500, total: 1000, unit: 'MB' });
  assert.deepEqual({ fraction, etaSeconds, elapsedSeconds, block }, { fraction: 0, etaSeconds: null, elapsedSeconds: 0, block: null });
  assert.equal(track({ stage: 'load', step: 1, total: 1 }).fraction, 0);
  assert.equal(track({ stage: 'read', step: 0, total: 14, block: 1, blocks: 4 }).etaSeconds, null);
  // The writer's events carry the block they belong to.
  assert.deepEqual(track({ stage: 'write', step: 3, total: 14 }).block, 1);
});

test('the line: stage and block, bar with %, ETA, step k/N, speed, elapsed; cut to fit, never wrapped', () => {
  const p: EditProgress = { stage: 'denoise', step: 7, total: 13, block: 2, blocks: 5, fraction: 0.43, etaSeconds: 95, elapsedSeconds: 72 };
  const parts = editLineParts(p, 14);
  assert.equal(parts[0].trim(), 'denoise 2/5');
  assert.match(parts[1], /^█{9}░{11} {2}43%$/);
  assert.deepEqual(parts.slice(2), ['ETA 01:35', 'step 7/13', '2.0 s/step', 'elapsed 01:12']);
  for (const width of [20, 40, 60, 200]) {
    const line = fitParts(parts, width);
    assert.ok([...line].length <= width, `${width}: "${line}"`);
  }
  assert.match(fitParts(parts, 60), /ETA 01:35/, 'the whole-video ETA survives a 60-column terminal');
  const download: EditProgress = { stage: 'download', step: 300, total: 1200, unit: 'MB', block: null, blocks: null, fraction: 0, etaSeconds: null, elapsedSeconds: 0 };
  assert.deepEqual(editLineParts(download, 10).slice(2), ['300/1200 MB', '30.0 MB/s', 'ETA 00:30']);
});

test('display: one redrawn line on a terminal; in a log a plain line at most every interval and at milestones', () => {
  const capture = (isTTY: boolean, columns = 50) => {
    let out = '';
    return { stream: { isTTY, columns, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream, out: () => out };
  };
  let t = 0;
  const tty = capture(true);
  const live = createEditDisplay({ stream: tty.stream, now: () => t });
  const log = capture(false);
  const plain = createEditDisplay({ stream: log.stream, now: () => t, interval: 10 });
  const track = progressTracker(() => t);
  let n = 0;
  for (const [e, dt] of events(4, 13)) {
    t += dt;
    const p = track(e);
    live.update(p);
    plain.update(p);
    n++;
  }
  live.done();
  plain.done();
  const redraws = tty.out().split('\r').filter(Boolean);
  assert.ok(redraws.length > 20, `${redraws.length} redraws`);
  for (const r of redraws) assert.ok([...r.replace('\x1b[K', '').replace('\n', '')].length <= 49, `fits 50 columns: "${r}"`);
  assert.equal(tty.out().split('\n').length, 2, 'a single line, ended once');
  const lines = log.out().trimEnd().split('\n');
  // 4 blocks × 8.1 s = 32 s: a line every 10 s plus one per finished block.
  assert.ok(lines.length >= 4 && lines.length <= 9, `${lines.length} plain lines for ${n} events:\n${log.out()}`);
  assert.ok(!log.out().includes('\r'));
  assert.match(lines.at(-1)!, /100%/);
});
