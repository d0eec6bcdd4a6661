import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ANIMATELCM_DEFAULTS, DEFAULT_OPTIONS, resolveOptions, SVD_SCHEDULER_CONFIG, type VideoshopOptions } from '../../src/pipeline/options.js';
import { makeSchedule, parseEulerSchedulerConfig } from '../../src/schedulers/euler.js';
import { repoRoot } from '../helpers/oracle.js';

test('defaults are the reference run.py values', () => {
  const { scheduler: _scheduler, ...rest } = DEFAULT_OPTIONS;
  assert.deepEqual(rest, {
    sampler: 'euler',
    steps: 25,
    strength: 0.55,
    minGuidance: 4,
    maxGuidance: 4,
    noiseAug: 0.2,
    fps: 7,
    motionBucket: 127,
    threshold: 1.0,
    seed: 42,
    inversion: 'extrapolated',
    normalization: 'per-frame-centered',
    normalizeInversionConditioning: true,
    thresholdNoise: 'data-std',
    rescale: true,
    rescaleFormula: 'reference',
    insideEdit: 'none',
    // Memory settings (src/edit/memory-plan.ts): the reference's single decode and encode calls, batch-2 guidance.
    decodeChunk: null,
    releaseEncoders: false,
    encodeChunk: null,
    oneBranchAtATime: false,
  });
});

test('the default scheduler is SVD\'s: 25 steps at strength 0.55 run 13 steps from σ ≈ 15.59', () => {
  const s = makeSchedule(SVD_SCHEDULER_CONFIG, 25, 0.55);
  assert.equal(s.startIndex, 12);
  assert.ok(Math.abs(s.sigmas[12] - 15.59) < 0.01, `σ_start = ${s.sigmas[12]}`);
  assert.equal(s.sigmas[25], 0);
  const file = path.join(repoRoot, 'configs', 'stable-video-diffusion-img2vid', 'scheduler', 'scheduler_config.json');
  if (existsSync(file)) assert.deepEqual(SVD_SCHEDULER_CONFIG, parseEulerSchedulerConfig(JSON.parse(readFileSync(file, 'utf8'))));
});

test('resolveOptions fills defaults, keeps explicit nulls and ignores undefined', () => {
  assert.deepEqual(resolveOptions(), DEFAULT_OPTIONS);
  const o = resolveOptions({ threshold: null, steps: undefined, rescale: false });
  assert.equal(o.threshold, null);
  assert.equal(o.steps, 25);
  assert.equal(o.rescale, false);
});

test('invalid options throw RangeErrors that name the option', () => {
  const bad: [Partial<VideoshopOptions> | Record<string, unknown>, RegExp][] = [
    [{ steps: 0 }, /^steps/],
    [{ steps: 2.5 }, /^steps/],
    [{ strength: 0 }, /^strength/],
    [{ strength: 1.5 }, /^strength/],
    [{ strength: 0.01 }, /^strength 0.01 of 25 steps runs no step/],
    [{ minGuidance: Number.NaN }, /^minGuidance/],
    [{ maxGuidance: Infinity }, /^maxGuidance/],
    [{ noiseAug: -0.1 }, /^noiseAug/],
    [{ fps: 0 }, /^fps/],
    [{ motionBucket: 1.5 }, /^motionBucket/],
    [{ threshold: -1 }, /^threshold/],
    [{ seed: -1 }, /^seed/],
    [{ seed: 0.5 }, /^seed/],
    [{ inversion: 'exact' }, /^inversion must be one of 'extrapolated', 'naive'/],
    [{ normalization: 'per-pixel' }, /^normalization/],
    [{ thresholdNoise: 'big' }, /^thresholdNoise/],
    [{ rescaleFormula: 'x' }, /^rescaleFormula/],
    [{ rescale: 'yes' }, /^rescale must be true or false/],
    [{ insideEdit: 'fresh' } as Record<string, unknown>, /^insideEdit must be one of 'none', 'renoise'/],
    [{ stepz: 3 }, /^unknown option "stepz"/],
    [{ sampler: 'lcm' } as Record<string, unknown>, /^sampler must be one of 'euler', 'animatelcm'/],
    [{ sampler: 'animatelcm', steps: 41 }, /^steps must be at most 40 on the animatelcm sampler/],
    [{ noise: { latents: { data: new Float32Array(1), dims: [1] } } }, /^unknown option "noise.latents"/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => resolveOptions(options as Partial<VideoshopOptions>),
      (e: unknown) => e instanceof RangeError && message.test(e.message), JSON.stringify(options));
  }
});

test('the AnimateLCM sampler takes its own defaults for what is not given, and the given values over them', () => {
  const lcm = resolveOptions({ sampler: 'animatelcm' });
  assert.deepEqual({ ...lcm }, { ...DEFAULT_OPTIONS, ...ANIMATELCM_DEFAULTS, sampler: 'animatelcm' });
  assert.equal(lcm.maxGuidance, 1);
  assert.equal(resolveOptions({ sampler: 'animatelcm', steps: 4 }).steps, 4);
  assert.equal(resolveOptions({ sampler: 'animatelcm', steps: 4 }).strength, ANIMATELCM_DEFAULTS.strength);
  assert.deepEqual(resolveOptions({}), DEFAULT_OPTIONS);
});
