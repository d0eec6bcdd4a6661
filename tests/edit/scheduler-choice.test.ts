/** The request's `scheduler`: auto by the UNet's file name, the AnimateLCM defaults for what is not given, its limits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkEditRequest, EDIT_FIELDS, samplerDefaults, type EditRequest } from '../../src/edit/index.js';
import { resolveScheduler, schedulerForUnetName } from '../../src/edit/scheduler-choice.js';
import { planEdit } from '../../src/edit/plan.js';
import { DEFAULT_OPTIONS } from '../../src/pipeline/options.js';
import { VideoshopError } from '../../src/util/errors.js';

const base: EditRequest = { video: 'in.mp4', editedFrame: 'edit.png', output: 'out.mp4' };
const svdGeometry = { nativeArea: 1024 * 576, sizeMultiple: 64, numFrames: 14 };

test('AnimateLCM UNet files by name: the published ones, paths and Hub ids; anything else is Euler', () => {
  for (const name of ['AnimateLCM-SVD-xt.safetensors', 'AnimateLCM-SVD-xt-1.1.safetensors', '/models/animatelcm_svd.safetensors',
    'wangfuyun/AnimateLCM-SVD-xt/AnimateLCM-SVD-xt-1.1.safetensors', 'my animate lcm.safetensors']) {
    assert.equal(schedulerForUnetName(name), 'animatelcm', name);
  }
  for (const name of ['models/toy/unet/diffusion_pytorch_model.safetensors', 'svd_xt.safetensors', 'stabilityai/stable-video-diffusion-img2vid-xt-1-1',
    'lcm-lora.safetensors', 'animate.safetensors']) {
    assert.equal(schedulerForUnetName(name), 'euler', name);
  }
  assert.equal(resolveScheduler(undefined, undefined), 'euler');
  assert.equal(resolveScheduler('auto', 'AnimateLCM-SVD-xt.safetensors'), 'animatelcm');
  assert.equal(resolveScheduler('euler', 'AnimateLCM-SVD-xt.safetensors'), 'euler');
  assert.equal(resolveScheduler('animatelcm', undefined), 'animatelcm');
  // What a front end shows as "Standard": the sampler auto picks, with its steps and strength.
  assert.deepEqual(samplerDefaults('AnimateLCM-SVD-xt-1.1.safetensors'), { sampler: 'animatelcm', steps: 8, strength: 0.5 });
  assert.deepEqual(samplerDefaults('stabilityai/stable-video-diffusion-img2vid'), { sampler: 'euler', steps: 25, strength: 0.55 });
});

test('the schema declares scheduler auto|euler|animatelcm, default auto', () => {
  const spec = EDIT_FIELDS.find((f) => f.name === 'scheduler');
  assert.ok(spec);
  assert.deepEqual(spec.choices, ['auto', 'euler', 'animatelcm']);
  assert.equal(spec.default, 'auto');
  assert.equal(spec.scope, 'job');
});

test('default request: Euler, the paper\'s options, 39 UNet calls per block', () => {
  const r = checkEditRequest(base);
  assert.equal(r.methodOptions.sampler, 'euler');
  const { scheduler: _s, ...paper } = DEFAULT_OPTIONS;
  assert.deepEqual(r.methodOptions, paper);
  assert.equal(planEdit({ width: 1024, height: 576 }, 14, r, svdGeometry).unetCalls, 39);
});

test('scheduler animatelcm: its defaults (8 steps, strength 0.5, guidance 1, Σ 0) unless given; 8 UNet calls per block', () => {
  const r = checkEditRequest({ ...base, scheduler: 'animatelcm' });
  const m = r.methodOptions;
  assert.deepEqual([m.sampler, m.steps, m.strength, m.minGuidance, m.maxGuidance, m.threshold], ['animatelcm', 8, 0.5, 1, 1, 0]);
  assert.equal(planEdit({ width: 1024, height: 576 }, 14, r, svdGeometry).unetCalls, 8);
  const given = checkEditRequest({ ...base, scheduler: 'animatelcm', steps: 4, strength: 1, guidance: 1.2, threshold: 1 }).methodOptions;
  assert.deepEqual([given.steps, given.strength, given.maxGuidance, given.threshold], [4, 1, 1.2, 1]);
  // A preview keeps AnimateLCM's own steps (Euler's preview is 13).
  assert.equal(checkEditRequest({ ...base, scheduler: 'animatelcm', preview: true }).methodOptions.steps, 8);
  assert.equal(checkEditRequest({ ...base, preview: true }).methodOptions.steps, 13);
  // auto by the name of the UNet file that replaces the model's (the request's unet; serve --unet passes the operator's).
  assert.equal(checkEditRequest({ ...base, unet: 'wangfuyun/AnimateLCM-SVD-xt/AnimateLCM-SVD-xt.safetensors' }).methodOptions.sampler, 'animatelcm');
  assert.equal(checkEditRequest({ ...base, unet: 'models/toy/unet/diffusion_pytorch_model.safetensors' }).methodOptions.sampler, 'euler');
  // auto by the model's name when no UNet file replaces it.
  assert.equal(checkEditRequest({ ...base, model: '/models/AnimateLCM-SVD-xt-diffusers' }).methodOptions.sampler, 'animatelcm');
});

test('bad scheduler values and too many AnimateLCM steps: one clear line naming the field', () => {
  assert.throws(() => checkEditRequest({ ...base, scheduler: 'lcm' as never }),
    (e: unknown) => e instanceof VideoshopError && e.field === 'scheduler' && /one of auto, euler, animatelcm/.test(e.message));
  assert.throws(() => checkEditRequest({ ...base, scheduler: 'animatelcm', steps: 50 }),
    (e: unknown) => e instanceof VideoshopError && e.field === 'steps' && /at most 40 steps/.test(e.message));
  assert.throws(() => checkEditRequest({ ...base, scheduler: 'animatelcm', steps: 4, strength: 0.2 }),
    (e: unknown) => e instanceof VideoshopError && e.field === 'strength' && /0\.2 of 4 steps runs no step/.test(e.message));
});
