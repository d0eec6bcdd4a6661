/**
 * Signals at each stage of `videoshop edit`: SIGTERM (kill, docker stop) and SIGHUP (terminal closed) clean up like
 * Ctrl-C: exit 128+signal, one "stopped" line, no output and no temp file. SIGKILL cannot be caught: its temp file
 * is removed by the next run that targets the same output. `--verbose` prints a line per stage and block to wait for. (SIGINT at invert 1 and block 2: tests/edit/cli-interrupt.)
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { spawnVideoshop, type CliResult } from '../helpers/cli.js';
import { createWorkspace, FAST, files, firstFrame, makeVideo, probe, type Workspace } from '../edit/fixtures.js';

let ws: Workspace;
let clip: string;
let edited: string;

before(async () => {
  ws = createWorkspace('faults-signals');
  clip = await makeVideo(ws.file('long.mp4'), { frames: 60, audio: true });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
});

after(() => ws?.remove());

function assertStopped(r: CliResult, signal: string, code: number, outDir: string): void {
  const context = `exit ${r.code} (${r.signal}), stderr:\n${r.stderr}`;
  assert.equal(r.code, code, context);
  assert.ok(!/^ {4}at /m.test(r.stderr), `no stack trace: ${context}`);
  assert.equal(r.stderr.trimEnd().split('\n').at(-1), `videoshop: stopped (${signal}): no output was written`);
  assert.equal(r.stdout, '');
  assert.deepEqual(files(outDir), [], 'no output and no temp file');
}

async function stopAt(stage: RegExp, signal: NodeJS.Signals, label: string, code: number, framesDir?: string): Promise<void> {
  const outDir = ws.outDir();
  const cli = spawnVideoshop(['edit', clip, '-e', edited, '-o', path.join(outDir, 'out.mp4'), '--model', ws.model, '--steps', '8', '--verbose',
    ...(framesDir ? ['--frames-dir', framesDir] : [])], { env: ws.env });
  await cli.waitForStderr(stage);
  if (framesDir) assert.ok(existsSync(framesDir) && readdirSync(framesDir).length > 0, 'block 1 wrote its PNGs');
  cli.child.kill(signal);
  assertStopped(await cli.done, label, code, outDir);
  if (framesDir) assert.ok(!existsSync(framesDir), 'the PNGs of the stopped run and the folder it created are gone');
}

describe('SIGTERM and SIGHUP at each stage', { concurrency: 2 }, () => {
  test('SIGTERM while encoding the first block', () => stopAt(/^encode 1\/6 /m, 'SIGTERM', 'SIGTERM', 143));
  test('SIGTERM while decoding the first block', () => stopAt(/^decode 1\/6 /m, 'SIGTERM', 'SIGTERM', 143));
  test('SIGHUP once the writer has started (block 2), with --frames-dir', () => stopAt(/^invert 2\/6 /m, 'SIGHUP', 'SIGHUP', 129, ws.file('frames-hup')));
  test('SIGINT while denoising block 2', () => stopAt(/^denoise 2\/6 /m, 'SIGINT', 'Ctrl-C', 130));
});

test('SIGKILL leaves a temp file; the next run for the same output removes it and succeeds', async () => {
  const outDir = ws.outDir();
  const out = path.join(outDir, 'out.mp4');
  const cli = spawnVideoshop(['edit', clip, '-e', edited, '-o', out, '--model', ws.model, '--steps', '8', '--verbose'], { env: ws.env });
  await cli.waitForStderr(/^invert 2\/6 /m);
  let seen: string[] = [];
  for (let i = 0; i < 100 && seen.length === 0; i++) {
    seen = readdirSync(outDir);
    if (seen.length === 0) await sleep(25);
  }
  cli.child.kill('SIGKILL');
  await cli.done;
  assert.match(files(outDir).join(','), /^\.out\.mp4\.tmp-\d+-\d+(-video)?\.mp4$/, 'the killed run left its temp file');
  const again = spawnVideoshop(['edit', clip, '-e', edited, '-o', out, '--model', ws.model, ...FAST, '-q', '--block-frames', '30'], { env: ws.env });
  const r = await again.done;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(files(outDir), ['out.mp4']);
  assert.equal((await probe(out)).frames, 60);
});
