/**
 * Ctrl-C during `videoshop edit`: SIGINT stops the run within a step, exits 130 with one "stopped" line, and leaves
 * neither the output nor the temp files of the atomic write, whether the writer had started or not.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { spawnVideoshop, type CliResult } from '../helpers/cli.js';
import { createWorkspace, files, firstFrame, makeVideo, type Workspace } from './fixtures.js';

let ws: Workspace;
let clip: string;
let edited: string;

before(async () => {
  ws = createWorkspace('edit-interrupt');
  // 60 frames with audio: 6 blocks, far longer than the tests wait.
  clip = await makeVideo(ws.file('long.mp4'), { frames: 60, audio: true });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
});

after(() => ws?.remove());

function assertStopped(r: CliResult, outDir: string): void {
  const context = `exit ${r.code} (${r.signal}), stderr:\n${r.stderr}`;
  assert.equal(r.code, 130, context);
  assert.ok(!/^ {4}at /m.test(r.stderr), `no stack trace: ${context}`);
  const last = r.stderr.trimEnd().split('\n').at(-1);
  assert.equal(last, 'videoshop: stopped (Ctrl-C): no output was written');
  assert.equal(r.stdout, '');
  assert.deepEqual(files(outDir), [], 'no output and no temp file');
}

test('SIGINT during the first inversion: exit 130, "stopped", nothing written', async () => {
  const outDir = ws.outDir();
  // Default steps: 13 inversion steps per block, a wide window to interrupt in.
  const cli = spawnVideoshop(['edit', clip, '-e', edited, '-o', path.join(outDir, 'out.mp4'), '--model', ws.model, '--verbose'], { env: ws.env });
  await cli.waitForStderr(/^invert 1\/6 /m);
  const sent = performance.now();
  cli.child.kill('SIGINT');
  const r = await cli.done;
  assertStopped(r, outDir);
  const ms = performance.now() - sent;
  assert.ok(ms < 10_000, `stopped ${ms.toFixed(0)} ms after SIGINT`);
});

test('SIGINT once the writer has started (block 2): the temp files are removed', async () => {
  const outDir = ws.outDir();
  const cli = spawnVideoshop(['edit', clip, '-e', edited, '-o', path.join(outDir, 'out.mp4'), '--model', ws.model, '--steps', '8', '--verbose'],
    { env: ws.env });
  await cli.waitForStderr(/^invert 2\/6 /m);
  // Block 1's final frames are in the encoder by now, which writes into a hidden temp file next to the output.
  let seen: string[] = [];
  for (let i = 0; i < 100 && seen.length === 0; i++) {
    seen = readdirSync(outDir);
    if (seen.length === 0) await sleep(25);
  }
  assert.match(seen.join(','), /^\.out\.mp4\.tmp-\d+-\d+(-video)?\.mp4$/, 'the encoder was writing its temp file');
  cli.child.kill('SIGINT');
  assertStopped(await cli.done, outDir);
});
