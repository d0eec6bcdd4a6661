/**
 * The memory plan (src/edit/memory-plan.ts): estimates per stage from the model's configs, the settings chosen to fit
 * a budget, and the refusal naming a size that fits, on SVD's real configs and on the toy model (no weights read).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  chooseMemorySettings, DEFAULT_MEMORY_SETTINGS, estimateMemory, memoryBudget, memoryModelOfFolder, planEditMemory, planMemory,
  smallestSettings, SVD_MEMORY_MODEL,
} from '../../src/edit/memory-plan.js';
import { editVideo } from '../../src/edit/index.js';
import { toyModelFolder } from '../../src/models/toy.js';
import { VideoshopError } from '../../src/util/errors.js';
import { repoRoot } from '../helpers/oracle.js';
import { createWorkspace, firstFrame, makeVideo } from './fixtures.js';

const GIB = 2 ** 30;
const FULL = { width: 1024, height: 576, blockFrames: 14 };

test('SVD\'s counts come from its configs; the toy model is counted from its own', () => {
  const svd = memoryModelOfFolder(path.join(repoRoot, 'configs', 'stable-video-diffusion-img2vid'));
  assert.deepEqual(svd.memory, SVD_MEMORY_MODEL);
  assert.deepEqual(svd.geometry, { nativeArea: 1024 * 576, sizeMultiple: 64, numFrames: 14 });
  const toy = memoryModelOfFolder(toyModelFolder());
  assert.ok(toy.memory.unetParams < SVD_MEMORY_MODEL.unetParams / 100);
  assert.ok(estimateMemory(toy.memory, { width: 128, height: 128, blockFrames: 8 }).peak < 1 * GIB);
});

test('full size: the estimates agree with the measured peaks of bench:models', () => {
  const e = estimateMemory(SVD_MEMORY_MODEL, FULL);
  // The 14-frame decode was killed by the watchdog at 21.1 GiB, still in its forward.
  assert.ok(e.stages.decode > 21.1 * GIB, `decode ${e.stages.decode / GIB}`);
  // UNet alone, batch 1: 9.9 GiB measured; the estimate adds CLIP, the VAE encoder and the block's frames.
  const unetAlone = estimateMemory(SVD_MEMORY_MODEL, { ...FULL, guided: false }, { ...DEFAULT_MEMORY_SETTINGS, releaseEncoders: true });
  assert.ok(Math.abs(unetAlone.stages.denoise - 0.35 * GIB - 14 * 3 * 1024 * 576 * 4 * 6 - 9.9 * GIB) < 0.5 * GIB);
  // Each knob lowers its own stage.
  const decode = (n: number) => estimateMemory(SVD_MEMORY_MODEL, FULL, { ...smallestSettings(), decodeChunk: n }).stages.decode;
  assert.ok(decode(1) < decode(2) && decode(2) < decode(14));
  const least = estimateMemory(SVD_MEMORY_MODEL, FULL, smallestSettings());
  assert.ok(least.peak < 12 * GIB, `smallest plan ${least.peak / GIB} GiB`);
});

test('the plan is the reference\'s behaviour when memory allows, and turns knobs on in order when it does not', () => {
  assert.deepEqual(chooseMemorySettings(SVD_MEMORY_MODEL, FULL, 64 * GIB)?.settings, DEFAULT_MEMORY_SETTINGS);
  const plan16 = chooseMemorySettings(SVD_MEMORY_MODEL, FULL, 16 * GIB)!;
  assert.ok(plan16.settings.releaseEncoders && plan16.settings.encodeChunk !== null);
  assert.ok(plan16.estimate.peak <= 16 * GIB);
  const plan12 = chooseMemorySettings(SVD_MEMORY_MODEL, FULL, 12 * GIB)!;
  assert.equal(plan12.settings.oneBranchAtATime, true);
  assert.ok(plan12.settings.decodeChunk !== null && plan12.settings.decodeChunk <= 3, JSON.stringify(plan12.settings));
  assert.ok(plan12.estimate.peak <= 12 * GIB - 0.5 * GIB);
  assert.equal(chooseMemorySettings(SVD_MEMORY_MODEL, FULL, 6 * GIB), null);
});

test('when nothing fits, one line names a size that does, before any load', () => {
  const budget = 11 * GIB;
  let err: unknown;
  try {
    planMemory(SVD_MEMORY_MODEL, { width: 2048, height: 1152, blockFrames: 14 }, { budget });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof VideoshopError && err.code === 'too_large', String(err));
  assert.doesNotMatch(err.message, /\n/);
  const m = /choose .*?(\d+)x(\d+)/.exec(err.message);
  assert.ok(m, err.message);
  const fits = { width: Number(m[1]), height: Number(m[2]) };
  assert.ok(fits.width % 64 === 0 && fits.height % 64 === 0 && Math.abs(fits.width / fits.height - 16 / 9) < 0.2);
  assert.ok(chooseMemorySettings(SVD_MEMORY_MODEL, { ...fits, blockFrames: 14 }, budget));
  // The toy model, through the request-level planner: fits at its size, refuses at a huge one with a budget of 2 GiB.
  const toy = planEditMemory({ model: 'toy', maxGuidance: 4 }, { width: 128, height: 128, frames: 8 }, 2 * GIB);
  assert.deepEqual(toy?.settings, DEFAULT_MEMORY_SETTINGS);
  assert.throws(() => planEditMemory({ model: 'toy', maxGuidance: 4, size: { width: 4096, height: 4096 } }, { width: 4096, height: 4096, frames: 8 }, 2 * GIB),
    (e: VideoshopError) => e.code === 'too_large' && /choose .*\d+x\d+/.test(e.message));
  assert.equal(planEditMemory({ device: 'cuda', maxGuidance: 4 }, { width: 128, height: 128, frames: 8 }), undefined);
  assert.ok(memoryBudget() > 0.1 * GIB);
});

test('editVideo refuses a size whose smallest plan exceeds the budget before loading the model, naming a size that fits', async () => {
  const ws = createWorkspace('memory-plan');
  const saved = process.env.VIDEOSHOP_MEMORY_GIB;
  try {
    const video = await makeVideo(ws.file('in.mp4'), { frames: 4, size: '200x120' });
    const edited = await firstFrame(video, ws.file('edited.png'));
    process.env.VIDEOSHOP_MEMORY_GIB = '1.2';
    // The model's configs without its weights: a refusal after the load would be a different error.
    const configsOnly = ws.file('configs-only');
    for (const c of ['unet', 'vae', 'image_encoder']) {
      mkdirSync(path.join(configsOnly, c), { recursive: true });
      copyFileSync(path.join(ws.model, c, 'config.json'), path.join(configsOnly, c, 'config.json'));
    }
    await assert.rejects(editVideo({ video, editedFrame: edited, output: ws.file('out.mp4'), model: configsOnly, size: { width: 640, height: 384 } }),
      (e: VideoshopError) => e.code === 'too_large' && /choose .*\d+x\d+"?, which fits/.test(e.message) && !/\n/.test(e.message));
    assert.ok(!existsSync(ws.file('out.mp4')));
  } finally {
    if (saved === undefined) delete process.env.VIDEOSHOP_MEMORY_GIB;
    else process.env.VIDEOSHOP_MEMORY_GIB = saved;
    ws.remove();
  }
});
