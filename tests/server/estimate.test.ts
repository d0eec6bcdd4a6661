/**
 * The time estimate before a job starts (src/server/estimate.ts): from the worker's test edit until a job has
 * finished, then from the newest finished job; the processing size the edit will pick; blocks and steps counted as
 * the edit runs them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrationSide, type MeasuredPace } from '../../src/edit/calibrate.js';
import { DEFAULT_OPTIONS } from '../../src/pipeline/options.js';
import { estimateSeconds } from '../../src/server/estimate.js';
import type { JobRecord } from '../../src/server/store.js';

// A pace of 1 ms per UNet call per 1,000 px, 10 ms per VAE pass per 1,000 px, 5 ms per frame read + written.
const side = 192;
const area = side * side;
const pace: MeasuredPace = {
  frames: 14, blocks: 1, processing: { width: side, height: side }, steps: 4, strength: 0.5,
  native: { area: 1024 * 576, multiple: 64 },
  timings_ms: { load: 0, read: 14 * 2, write: 14 * 3, encode: 5 * area / 1000, decode: 5 * area / 1000,
    invert: 2 * area / 1000, denoise: 2 * area / 1000, total: 0 },
};
const method = DEFAULT_OPTIONS;

test('from the test edit: the size the edit will pick for this video, every UNet call, VAE pass and frame', () => {
  const e = estimateSeconds({ frames: 14, width: 1920, height: 1080, method }, [], pace);
  // 1920×1080 → 1024×576; ⌊25·0.55⌋ = 13 steps, inverted and denoised: 26 calls in one block.
  assert.equal(e.unet_steps, 26);
  assert.equal(e.blocks, 1);
  const ms = 26 * 1024 * 576 / 1000 + 10 * 1024 * 576 / 1000 + 14 * 5;
  assert.equal(e.eta_s, Math.round(ms / 1000));
  assert.match(e.basis, /^a 192×192 test edit at startup/);
  // An explicit size wins; more frames make more blocks.
  const small = estimateSeconds({ frames: 30, width: 1920, height: 1080, method, size: { width: 512, height: 256 } }, [], pace);
  assert.equal(small.blocks, 3);
  assert.equal(small.eta_s, Math.round((3 * 26 * 512 * 256 / 1000 + 3 * 10 * 512 * 256 / 1000 + 30 * 5) / 1000));
});

test('a finished job replaces the test edit; with neither there is no time', () => {
  const job = {
    id: 'j1', status: 'done', options: { steps: 10, strength: 0.5 },
    result: { frames: 14, blocks: 1, processing: { width: 1024, height: 576 },
      timings_ms: { read: 0, write: 0, encode: 0, decode: 0, invert: 10_000, denoise: 10_000 } },
  } as unknown as JobRecord;
  const e = estimateSeconds({ frames: 14, width: 1920, height: 1080, method }, [job], pace);
  assert.equal(e.basis, 'pace of job j1');
  assert.equal(e.eta_s, Math.round(26 * 2)); // 2 s per call measured over 10 calls
  const none = estimateSeconds({ frames: 14, width: 1920, height: 1080, method }, [], null);
  assert.equal(none.eta_s, null);
});

test('the test edit runs at a sixteenth of the native area, on the model\'s size grid, at least 64×64', () => {
  assert.equal(calibrationSide({ nativeArea: 768 * 768, sizeMultiple: 64 }), 192);
  assert.equal(calibrationSide({ nativeArea: 64 * 64, sizeMultiple: 8 }), 64);
  assert.equal(calibrationSide({ nativeArea: 512 * 512, sizeMultiple: 64 }), 128);
});
