import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { readUnetConfig } from '../../src/models/unet/config.js';
import { unetWeightShapes } from '../../src/models/unet/weights.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'vs-tiny-'));

test('create-tiny-model writes the full diffusers layout, reproducibly from its seed', async () => {
  const a = path.join(tmp(), 'a');
  const b = path.join(tmp(), 'b');
  const out: string[] = [];
  assert.equal(await runCli(['node', 'videoshop', 'create-tiny-model', a, '--seed', '7'], (l) => out.push(l)), 0);
  assert.equal(await runCli(['node', 'videoshop', 'create-tiny-model', b, '--seed', '7'], () => {}), 0);
  assert.match(out[0], /tiny random SVD/);
  for (const f of ['model_index.json', 'scheduler/scheduler_config.json', 'feature_extractor/preprocessor_config.json',
    'unet/config.json', 'unet/diffusion_pytorch_model.safetensors', 'vae/config.json',
    'vae/diffusion_pytorch_model.safetensors', 'image_encoder/config.json', 'image_encoder/model.safetensors']) {
    assert.ok(existsSync(path.join(a, f)), f);
    assert.deepEqual(readFileSync(path.join(a, f)), readFileSync(path.join(b, f)), `${f} differs between equal seeds`);
  }
  const index = JSON.parse(readFileSync(path.join(a, 'model_index.json'), 'utf8'));
  assert.deepEqual(index.unet, ['diffusers', 'UNetSpatioTemporalConditionModel']);
  // Every UNet parameter the architecture has is present with the right shape.
  const store = WeightStore.openFolder(path.join(a, 'unet'));
  const shapes = unetWeightShapes(readUnetConfig(path.join(a, 'unet')));
  assert.equal(store.names().length, shapes.length);
  for (const { name, shape } of shapes) assert.deepEqual(store.info(name).shape, shape, name);
});

test('create-tiny-model never overwrites a folder with files unless --force, and leaves no temp folder', async () => {
  const parent = tmp();
  const dir = path.join(parent, 'm');
  assert.equal(await runCli(['node', 'videoshop', 'create-tiny-model', dir, '--seed', '1'], () => {}), 0);
  writeFileSync(path.join(dir, 'mine.txt'), 'keep');
  const errors: string[] = [];
  const orig = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal(await runCli(['node', 'videoshop', 'create-tiny-model', dir], () => {}), 2);
  } finally {
    console.error = orig;
  }
  assert.match(errors[0], /exists and is not empty.*--force/);
  assert.equal(readFileSync(path.join(dir, 'mine.txt'), 'utf8'), 'keep');
  // --force replaces only a tiny model: a file it did not write keeps the folder as it is.
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal(await runCli(['node', 'videoshop', 'create-tiny-model', dir, '--force'], () => {}), 2);
  } finally {
    console.error = orig;
  }
  assert.match(errors[1], /holds files it did not write \(mine\.txt\): nothing was replaced/);
  assert.equal(readFileSync(path.join(dir, 'mine.txt'), 'utf8'), 'keep');
  rmSync(path.join(dir, 'mine.txt'));
  assert.equal(await runCli(['node', 'videoshop', 'create-tiny-model', dir, '--force', '--seed', '2'], () => {}), 0);
  assert.ok(existsSync(path.join(dir, '.videoshop-tiny-model')));
  assert.deepEqual(readdirSync(parent), ['m']);
  // A folder of someone else's files (no marker) is never deleted, even when the names look like a model's.
  const other = path.join(parent, 'other');
  mkdirSync(other);
  writeFileSync(path.join(other, 'model_index.json'), '{}');
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal(await runCli(['node', 'videoshop', 'create-tiny-model', other, '--force'], () => {}), 2);
  } finally {
    console.error = orig;
  }
  assert.match(errors[2], /holds no tiny model written by Videoshop: nothing was replaced/);
  assert.equal(readFileSync(path.join(other, 'model_index.json'), 'utf8'), '{}');
});
