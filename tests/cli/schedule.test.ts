import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';

async function cli(...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await runCli(['node', 'videoshop', ...args], (l) => out.push(l));
  return { code, out };
}

test('schedule prints SVD\'s built-in schedule: 13 of 25 steps run at strength 0.55', async () => {
  const { code, out } = await cli('schedule', '--json');
  assert.equal(code, 0);
  const s = JSON.parse(out[0]);
  assert.equal(s.steps, 25);
  assert.equal(s.startIndex, 12);
  assert.equal(s.sigmas.length, 26);
  assert.ok(Math.abs(s.sigmas[0] - 700) < 1e-3 && Math.abs(s.sigmas[24] - 0.002) < 1e-8 && s.sigmas[25] === 0);
  assert.ok(Math.abs(s.timesteps[0] - 0.25 * Math.log(700)) < 1e-6);
});

test('schedule reads a config file and refuses bad ones with one clear line', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vs-sched-'));
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ _class_name: 'EulerDiscreteScheduler', prediction_type: 'x0' }));
  const errors: string[] = [];
  const orig = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal((await cli('schedule', '--config', bad)).code, 2);
    assert.equal((await cli('schedule', '--config', path.join(dir, 'missing.json'))).code, 2);
  } finally {
    console.error = orig;
  }
  assert.match(errors[0], /prediction_type/);
  assert.match(errors[1], /cannot read scheduler config/);
  const table = await cli('schedule', '--steps', '4', '--strength', '0.5');
  assert.equal(table.code, 0);
  assert.match(table.out[0], /steps 2…3 run \(2 steps\)/);
});

test('schedule --scheduler animatelcm prints AnimateLCM-SVD\'s grid; its defaults, its limits', async () => {
  const four = await cli('schedule', '--scheduler', 'animatelcm', '--steps', '4', '--json');
  assert.equal(four.code, 0);
  const s = JSON.parse(four.out[0]);
  assert.equal(s.scheduler, 'animatelcm');
  assert.deepEqual(s.sigmas.map((v: number) => Number(v.toPrecision(4))), [700, 128.6, 13.68, 0.4969, 0]);
  assert.ok(Math.abs(s.timesteps[2] - 0.25 * Math.log(s.sigmas[2])) < 1e-6);
  const table = await cli('schedule', '--scheduler', 'animatelcm', '--steps', '4');
  assert.match(table.out[0], /^animatelcm, 4 steps, strength 0\.5: steps 2…3 run \(2 steps\)/);
  const defaults = JSON.parse((await cli('schedule', '--scheduler', 'animatelcm', '--json')).out[0]);
  assert.equal(defaults.steps, 8);
  assert.equal(defaults.strength, 0.5);
  const errors: string[] = [];
  const orig = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal((await cli('schedule', '--scheduler', 'animatelcm', '--steps', '41')).code, 2);
    assert.equal((await cli('schedule', '--scheduler', 'lcm')).code, 2);
  } finally {
    console.error = orig;
  }
  assert.match(errors[0], /1 to 40 steps/);
  assert.match(errors[1], /--scheduler must be one of euler, animatelcm/);
});
