/**
 * SVD's Euler scheduler against diffusers' EulerDiscreteScheduler (oracle: tests/oracle/scheduler.py),
 * plus algebraic properties of the inverse step and config validation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  alphasCumprod,
  eulerStep,
  initNoiseSigma,
  inverseEulerStep,
  makeSchedule,
  parseEulerSchedulerConfig,
  predictOriginal,
  preconditioning,
  type PredictionType,
  scaleModelInput,
  startIndexFor,
} from '../../src/schedulers/euler.js';
import { ConfigError } from '../../src/util/config.js';
import { Random } from '../../src/random.js';
import { oracleCases, oracleData, oracleSkip, repoRoot } from '../helpers/oracle.js';
import { assertClose } from '../helpers/close.js';

interface OracleSchedule { sigmas: number[]; timesteps: number[]; init_noise_sigma: number }
interface OracleStep { index: number; sample: number[]; scaled: number[]; prev_sample: number[]; pred_original_sample: number[] }
interface OracleImg2Img { strength: number; t_start: number; steps_run: number; first_timestep: number; first_sigma: number }
interface OracleCase {
  config: Record<string, unknown>;
  alphas_cumprod: number[];
  schedules: Record<string, OracleSchedule>;
  steps: OracleStep[];
  img2img: OracleImg2Img[];
}
interface Oracle { shape: number[]; model_output: number[]; cases: Record<string, OracleCase> }

const skip = oracleSkip('scheduler');
const load = oracleData('scheduler', (dir) => {
  const oracle = JSON.parse(readFileSync(path.join(dir, 'scheduler.json'), 'utf8')) as Oracle;
  return { oracle, modelOutput: Float32Array.from(oracle.model_output) };
});
// The real SVD config, read where the oracle copies it from byte for byte (its svd_scheduler_config.json), so the
// tests that only need the config run without the oracle.
const svdConfigJson = JSON.parse(
  readFileSync(path.join(repoRoot, 'configs', 'stable-video-diffusion-img2vid', 'scheduler', 'scheduler_config.json'), 'utf8'),
) as Record<string, unknown>;
const svdConfig = parseEulerSchedulerConfig(svdConfigJson);
const STEP_COUNT = 25;

/**
 * Tolerances, relative to the largest |value| of each array. Schedules: measured ≤ 6.6e-8 (about one float32
 * ulp: torch's CPU sqrt/log/exp are not always correctly rounded), so 2.5e-7 leaves headroom for other CPUs.
 * Element-wise scale/step outputs: measured ≤ 1.3e-7 (float64 here vs float32 in torch), checked to 1e-6.
 */
const SCHEDULE_TOL = 2.5e-7;
const STEP_TOL = 1e-6;

describe('Euler scheduler vs diffusers', () => {
  test('the SVD config file parses to the values diffusers uses', () => {
    assert.equal(svdConfig.predictionType, 'v_prediction');
    assert.equal(svdConfig.useKarrasSigmas, true);
    assert.equal(svdConfig.timestepType, 'continuous');
    assert.equal(svdConfig.timestepSpacing, 'leading');
    assert.equal(svdConfig.sigmaMin, 0.002);
    assert.equal(svdConfig.sigmaMax, 700);
    assert.equal(svdConfig.stepsOffset, 1);
  });

  test('SVD: sigmas, timesteps and init_noise_sigma for 1, 2, 10, 14, 25, 50 steps (1e-6)', { skip }, () => {
    const { oracle } = load();
    const expected = oracle.cases.svd.schedules;
    assert.deepEqual(Object.keys(expected).map(Number).sort((a, b) => a - b), [1, 2, 10, 14, 25, 50]);
    for (const [steps, want] of Object.entries(expected)) {
      const schedule = makeSchedule(svdConfig, Number(steps));
      assert.equal(schedule.numSteps, Number(steps));
      assertClose(schedule.sigmas, want.sigmas, 1e-6, `svd ${steps} sigmas`);
      assertClose(schedule.timesteps, want.timesteps, 1e-6, `svd ${steps} timesteps`);
      assertClose([initNoiseSigma(svdConfig, schedule)], [want.init_noise_sigma], 1e-6, `svd ${steps} init_noise_sigma`);
    }
    // Karras from σ_max = 700 to σ_min = 0.002, then a final 0, and c_noise = ¼·ln σ.
    const s25 = makeSchedule(svdConfig, 25);
    assert.equal(s25.sigmas[0], 700);
    assert.equal(s25.sigmas[24], Math.fround(0.002));
    assert.equal(s25.sigmas[25], 0);
  });

  for (const [name, c] of oracleCases('scheduler', 'every oracle case: schedules, steps and img2img start', () => load().oracle.cases)) {
    const config = parseEulerSchedulerConfig(c.config, name);

    test(`${name}: alphas_cumprod and schedules (${SCHEDULE_TOL})`, () => {
      assertClose(alphasCumprod(config), c.alphas_cumprod, SCHEDULE_TOL, `${name} alphas_cumprod`);
      for (const [steps, want] of Object.entries(c.schedules)) {
        const schedule = makeSchedule(config, Number(steps));
        assertClose(schedule.sigmas, want.sigmas, SCHEDULE_TOL, `${name} ${steps} sigmas`);
        assertClose(schedule.timesteps, want.timesteps, SCHEDULE_TOL, `${name} ${steps} timesteps`);
        assertClose([initNoiseSigma(config, schedule)], [want.init_noise_sigma], SCHEDULE_TOL, `${name} ${steps} init_noise_sigma`);
      }
    });

    test(`${name}: scale_model_input and step at indices 0, 12, 24 of 25 (${STEP_TOL})`, () => {
      const { modelOutput } = load();
      const schedule = makeSchedule(config, STEP_COUNT);
      assert.deepEqual(c.steps.map((s) => s.index), [0, 12, 24]);
      for (const step of c.steps) {
        const sample = Float32Array.from(step.sample);
        const sigma = schedule.sigmas[step.index];
        const sigmaNext = schedule.sigmas[step.index + 1];
        const where = `${name} step ${step.index}`;
        assertClose(scaleModelInput(sample, sigma), step.scaled, STEP_TOL, `${where} scaled`);
        assertClose(predictOriginal(modelOutput, sample, sigma, config.predictionType), step.pred_original_sample, STEP_TOL, `${where} x0`);
        assertClose(eulerStep(modelOutput, sample, sigma, sigmaNext, config.predictionType), step.prev_sample, STEP_TOL, `${where} prev`);
      }
    });

    test(`${name}: img2img start for strengths 0.55, 1, 0.3 of 25 steps`, () => {
      for (const want of c.img2img) {
        const schedule = makeSchedule(config, STEP_COUNT, want.strength);
        assert.equal(schedule.startIndex, want.t_start, `strength ${want.strength}`);
        assert.equal(STEP_COUNT - schedule.startIndex, want.steps_run);
        assertClose([schedule.timesteps[schedule.startIndex]], [want.first_timestep], 1e-6, `strength ${want.strength} timestep`);
        assertClose([schedule.sigmas[schedule.startIndex]], [want.first_sigma], 1e-6, `strength ${want.strength} sigma`);
      }
    });
  }

  test('the oracle covers every spacing, interpolation, prediction type and beta schedule', { skip }, () => {
    const { oracle } = load();
    const configs = Object.values(oracle.cases).map((c) => parseEulerSchedulerConfig(c.config));
    const seen = (f: (c: (typeof configs)[number]) => string) => new Set(configs.map(f));
    assert.deepEqual([...seen((c) => c.timestepSpacing)].sort(), ['leading', 'linspace', 'trailing']);
    assert.deepEqual([...seen((c) => c.interpolationType)].sort(), ['linear', 'log_linear']);
    assert.deepEqual([...seen((c) => c.predictionType)].sort(), ['epsilon', 'sample', 'v_prediction']);
    assert.deepEqual([...seen((c) => c.betaSchedule)].sort(), ['linear', 'scaled_linear', 'squaredcos_cap_v2']);
    assert.deepEqual([...seen((c) => c.finalSigmasType)].sort(), ['sigma_min', 'zero']);
  });

  test('trailing spacing where numpy.arange yields an extra timestep is refused', { skip }, () => {
    const { oracle } = load();
    const trailing = parseEulerSchedulerConfig({ ...oracle.cases.trailing.config });
    assert.throws(() => makeSchedule(trailing, 61), /"trailing" timestep spacing gives 62 timesteps for 61 steps/);
  });
});

describe('inverse Euler step', () => {
  const predictions: PredictionType[] = ['v_prediction', 'epsilon', 'sample'];
  const pairs: [number, number][] = [[0.002, 0.0035], [0.5, 0.8], [11.2, 15.6], [600, 700], [0, 0.002]];

  for (const prediction of predictions) {
    test(`${prediction}: an Euler step undoes the inverse step exactly (1e-6)`, () => {
      const rng = new Random(7);
      for (const [low, high] of pairs) {
        if (prediction === 'sample' && low === 0) continue; // not invertible, checked below
        // Latents at noise level σ have scale √(σ² + 1); the network output has unit scale.
        const xLow = rng.normals(500).map((v) => v * Math.sqrt(low * low + 1));
        const f = rng.normals(500);
        const xHigh = inverseEulerStep(f, xLow, low, high, prediction);
        const back = eulerStep(f, xHigh, high, low, prediction);
        assertClose(back, Array.from(xLow), 1e-6, `${prediction} ${low}→${high}`);
      }
    });
  }

  test('a sample-predicting step to σ = 0 and a σ_{t+1} ≤ 0 are refused', () => {
    const x = Float32Array.of(1, 2);
    assert.throws(() => inverseEulerStep(x, x, 0, 1, 'sample'), /cannot be inverted/);
    assert.throws(() => inverseEulerStep(x, x, 0, 0, 'v_prediction'), /σ_\{t\+1\} > 0/);
  });

  test('mismatched lengths are refused', () => {
    assert.throws(() => eulerStep(new Float32Array(3), new Float32Array(4), 1, 0.5, 'epsilon'), /3 values but the sample has 4/);
    assert.throws(() => inverseEulerStep(new Float32Array(3), new Float32Array(4), 0.5, 1, 'epsilon'), /3 values/);
  });
});

describe('preconditioning and denoised estimate (hand-computed)', () => {
  const x = Float32Array.of(1, -3);
  const f = Float32Array.of(0.5, 2);

  test('v_prediction at σ = 2: c_skip = 1/5, c_out = −2/√5, c_in = 1/√5', () => {
    const p = preconditioning(2, 'v_prediction');
    assert.ok(Math.abs(p.cSkip - 0.2) < 1e-15);
    assert.ok(Math.abs(p.cOut + 0.894427190999916) < 1e-15);
    assert.ok(Math.abs(p.cIn - 0.4472135954999579) < 1e-15);
    // D = x/5 − 2F/√5
    assertClose(predictOriginal(f, x, 2, 'v_prediction'), [-0.2472135954999579, -2.388854381999832], 1e-7, 'v D');
  });

  test('epsilon at σ = 2: D = x − σF; sample: D = F', () => {
    assertClose(predictOriginal(f, x, 2, 'epsilon'), [0, -7], 1e-7, 'eps D');
    assertClose(predictOriginal(f, x, 2, 'sample'), [0.5, 2], 0, 'sample D');
  });

  test('scale_model_input divides by √(σ² + 1); an Euler step moves along (x − D)/σ', () => {
    assertClose(scaleModelInput(x, Math.sqrt(3)), [0.5, -1.5], 1e-7, 'scaled');
    // epsilon: (x − D)/σ = F, so x_next = x + (σ_next − σ)·F = x − F for σ 2 → 1.
    assertClose(eulerStep(f, x, 2, 1, 'epsilon'), [0.5, -5], 1e-7, 'euler eps');
    // Any prediction type: a step to σ = 0 lands on D.
    assertClose(eulerStep(f, x, 2, 0, 'v_prediction'), Array.from(predictOriginal(f, x, 2, 'v_prediction')), 1e-7, 'euler to 0');
  });
});

describe('strength → start index', () => {
  test('the last ⌊strength·steps⌋ steps run', () => {
    assert.equal(startIndexFor(25, 0.55), 12);
    assert.equal(startIndexFor(25, 1), 0);
    assert.equal(startIndexFor(25, 0.3), 18);
    assert.equal(startIndexFor(25, 0.04), 24);
    assert.equal(makeSchedule(svdConfig, 25, 0.55).startIndex, 12);
  });

  test('strength 0, above 1, NaN or running no step is refused with a clear message', () => {
    assert.throws(() => startIndexFor(25, 0), /strength must be in \(0, 1\], got 0/);
    assert.throws(() => startIndexFor(25, 1.5), /strength must be in \(0, 1\], got 1.5/);
    assert.throws(() => startIndexFor(25, Number.NaN), /strength must be in \(0, 1\]/);
    assert.throws(() => startIndexFor(25, 0.03), /strength 0.03 of 25 steps runs no step/);
  });

  test('step counts that are not positive integers are refused', () => {
    assert.throws(() => makeSchedule(svdConfig, 0), /steps must be a positive integer, got 0/);
    assert.throws(() => makeSchedule(svdConfig, 2.5), /steps must be a positive integer/);
  });
});

describe('scheduler config validation', () => {
  const base = svdConfigJson;
  const parse = (patch: Record<string, unknown>) => () => parseEulerSchedulerConfig({ ...base, ...patch });

  test('errors name the offending field', () => {
    assert.throws(parse({ prediction_type: 'flow' }), (e: unknown) => e instanceof ConfigError && /"prediction_type"/.test(e.message));
    assert.throws(parse({ _class_name: 'DDIMScheduler' }), (e: unknown) => e instanceof ConfigError && /"_class_name".*DDIMScheduler/.test(e.message));
    assert.throws(parse({ sigma_min: '0.002' }), (e: unknown) => e instanceof ConfigError && /"sigma_min" must be a number/.test(e.message));
    assert.throws(parse({ timestep_spacing: 'even' }), /"timestep_spacing"/);
    assert.throws(parse({ num_train_timesteps: 1.5 }), /"num_train_timesteps" must be an integer/);
    assert.throws(parse({ use_karras_sigmas: 'yes' }), /"use_karras_sigmas" must be true or false/);
    assert.throws(parse({ use_exponential_sigmas: true }), /"use_exponential_sigmas": true is not supported/);
    assert.throws(parse({ trained_betas: [0.1, 'x'] }), /"trained_betas"/);
    assert.throws(() => parseEulerSchedulerConfig([]), /expected a JSON object/);
  });

  test('missing fields take diffusers defaults', () => {
    const c = parseEulerSchedulerConfig({});
    assert.equal(c.numTrainTimesteps, 1000);
    assert.equal(c.betaSchedule, 'linear');
    assert.equal(c.predictionType, 'epsilon');
    assert.equal(c.timestepSpacing, 'linspace');
    assert.equal(c.useKarrasSigmas, false);
    assert.equal(c.sigmaMin, undefined);
    assert.equal(c.finalSigmasType, 'zero');
  });
});
