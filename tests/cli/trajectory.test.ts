/**
 * `videoshop analyze-trajectory` in-process on the tiny random SVD and an ffmpeg test clip: the three statistics next
 * to the paper's, --json with the matrix, the CSV with σ labels, defaults from the model and the video, errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createTinyModel } from '../../src/models/tiny.js';
import { assertRefused, cliInProcess } from '../helpers/cli-inprocess.js';

const exec = promisify(execFile);
/** Few steps keep each tiny-model run at a second or two. */
const STEPS = '6';

let dir: string;
let model: string;
let clip: string;
let csv: string;
/** The first run's table and --json, with the same seed and steps. */
let table: string[];
let json: Record<string, unknown>;
const savedEnv = { ...process.env };

const cli = cliInProcess;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'videoshop-trajectory-'));
  process.env.VIDEOSHOP_CACHE = path.join(dir, 'cache');
  process.env.HF_HUB_OFFLINE = '1';
  model = path.join(dir, 'tiny-svd');
  createTinyModel(model, { seed: 5 });
  clip = path.join(dir, 'clip.mp4');
  csv = path.join(dir, 'matrix.csv');
  await exec('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=96x64:r=12,trim=end_frame=12',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
  const t = await cli('analyze-trajectory', clip, '--model', model, '--steps', STEPS, '--csv', csv);
  assert.equal(t.code, 0, t.err);
  assert.match(t.err, /^generate .* 6\/6 .*done in/m, 'progress on stderr');
  table = t.out;
  const j = await cli('analyze-trajectory', clip, '--model', model, '--steps', STEPS, '--json', '-q');
  assert.equal(j.code, 0, j.err);
  assert.equal(j.err, '', '--quiet: nothing on stderr');
  assert.equal(j.out.length, 1);
  json = JSON.parse(j.out[0]) as Record<string, unknown>;
});

after(() => {
  process.env = savedEnv;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the table prints the three statistics next to the paper\'s values', () => {
  const rows = [/^mean over all pairs/, /^mean over adjacent pairs/, /^min over adjacent pairs/];
  const paper = ['0.9282', '0.9919', '0.9107'];
  const keys = ['meanAllPairs', 'meanAdjacent', 'minAdjacent'];
  rows.forEach((row, i) => {
    const line = table.find((l) => row.test(l));
    assert.ok(line, `a row ${row}:\n${table.join('\n')}`);
    const [ours, theirs] = (line.match(/-?\d\.\d{4}/g) ?? []).map(Number);
    assert.ok(Number.isFinite(ours) && ours >= -1 && ours <= 1, line);
    assert.equal(theirs.toFixed(4), paper[i]);
    // Same seed and steps: the same numbers as --json.
    assert.equal(ours.toFixed(4), (json[keys[i]] as number).toFixed(4));
  });
  assert.match(table[0], /over 6 states x_T … x_1 \(6 steps, seed 42, 12 frames at 40×28\)/);
  assert.ok(table.some((l) => l === `wrote the 6×6 matrix to ${csv}`));
});

test('--json: statistics in [-1, 1] from a symmetric matrix over x_T … x_1, with σ labels and defaults', () => {
  // The tiny model: 14 frames capped by the clip's 12; 96×64 at its native 32² area, sides multiples of 4: 40×28.
  assert.equal(json.frames, 12);
  assert.deepEqual(json.size, { width: 40, height: 28 });
  assert.equal(json.steps, 6);
  assert.equal(json.seed, 42);
  assert.deepEqual(json.paper, { meanAllPairs: 0.9282, meanAdjacent: 0.9919, minAdjacent: 0.9107 });
  const sigmas = json.sigmas as number[];
  assert.equal(sigmas.length, 6, 'x_0 (σ = 0) is excluded');
  assert.equal(sigmas[0], 700);
  assert.equal(sigmas[5], 0.002);
  assert.ok(sigmas.every((s, i) => i === 0 || s < sigmas[i - 1]));
  const m = json.matrix as number[][];
  assert.equal(m.length, 6);
  let all = 0, adjacent = 0, minAdjacent = Infinity;
  for (let i = 0; i < 6; i++) {
    assert.equal(m[i].length, 6);
    assert.equal(m[i][i], 1);
    for (let j = 0; j < 6; j++) {
      assert.equal(m[i][j], m[j][i]);
      assert.ok(m[i][j] >= -1 - 1e-12 && m[i][j] <= 1 + 1e-12);
      if (j > i) all += m[i][j];
    }
    if (i < 5) {
      adjacent += m[i][i + 1];
      minAdjacent = Math.min(minAdjacent, m[i][i + 1]);
    }
  }
  assert.ok(Math.abs((json.meanAllPairs as number) - all / 15) < 1e-12);
  assert.ok(Math.abs((json.meanAdjacent as number) - adjacent / 5) < 1e-12);
  assert.equal(json.minAdjacent, minAdjacent);
  // The two noisiest states point almost the same way from x_0: the schedule's first step barely moves x_T.
  assert.ok(m[0][1] > 0.99, `cos(x_T − x_0, x_1st − x_0) = ${m[0][1]}`);
});

test('--csv writes the (N+1)×(N+1) matrix with σ labels, the same values as --json', () => {
  const rows = readFileSync(csv, 'utf8').trimEnd().split('\n').map((l) => l.split(','));
  assert.equal(rows.length, 7);
  assert.ok(rows.every((r) => r.length === 7));
  const sigmas = (json.sigmas as number[]).map(String);
  assert.deepEqual(rows[0], ['sigma', ...sigmas]);
  assert.deepEqual(rows.slice(1).map((r) => r[0]), sigmas);
  const m = json.matrix as number[][];
  rows.slice(1).forEach((r, i) => r.slice(1).forEach((v, j) => assert.equal(Number(v), m[i][j])));
});

test('--frames, --size and --seed change the run; bad options and a missing video are one line', async () => {
  const r = await cli('analyze-trajectory', clip, '--model', model, '--steps', '3', '--frames', '3', '--size', '32x24',
    '--seed', '7', '--json', '-q');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out[0]) as Record<string, unknown>;
  assert.equal(j.frames, 3);
  assert.deepEqual(j.size, { width: 32, height: 24 });
  assert.equal(j.seed, 7);
  assert.equal((j.sigmas as number[]).length, 3);
  for (const k of ['meanAllPairs', 'meanAdjacent', 'minAdjacent']) {
    assert.ok(Number.isFinite(j[k]) && (j[k] as number) >= -1 && (j[k] as number) <= 1, `${k} ${j[k]}`);
  }

  assertRefused(await cli('analyze-trajectory', path.join(dir, 'nope.mp4'), '--model', model), /video not found: .*nope\.mp4/);
  assertRefused(await cli('analyze-trajectory', clip, '--model', model, '--size', '30x30', '-q'), /multiples of 4/);
  assertRefused(await cli('analyze-trajectory', clip, '--model', model, '--steps', '1'), /--steps must be an integer ≥ 2/);
  assertRefused(await cli('analyze-trajectory', clip, '--model', model, '--csv', path.join(dir, 'no', 'm.csv')), /--csv: folder .* does not exist/);
  assertRefused(await cli('analyze-trajectory', clip, '--model', model, '--csv', clip), /refusing to overwrite the input/);
});
