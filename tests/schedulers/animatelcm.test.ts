/**
 * AnimateLCM's scheduler against an oracle written from the published formulas (tests/oracle/animatelcm.py, with
 * diffusers' CMStochasticIterativeScheduler as a second reading of the σ grid), and the algebra Videoshop relies on:
 * the deterministic step's inverse, and σ_d = 1 scalings equal to SVD's v-prediction ones.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  ANIMATELCM_CONFIG, lcmDenoised, lcmDeterministicStep, lcmInitNoiseSigma, lcmInverseStep, lcmScaleModelInput, lcmStochasticStep,
  makeLcmSchedule,
} from '../../src/schedulers/animatelcm.js';
import { eulerStep, inverseEulerStep, predictOriginal } from '../../src/schedulers/euler.js';
import { Random } from '../../src/random.js';
import { oracleData, oracleSkip } from '../helpers/oracle.js';
import { assertClose } from '../helpers/close.js';

interface OracleSchedule { sigmas: number[]; c_noise: number[]; diffusers_cm_sigmas: number[] }
interface OracleStep {
  sigma: number; sigma_next: number; sample: number[]; scaled: number[]; denoised: number[];
  stochastic: number[]; deterministic: number[]; inverse: number[];
}
interface Oracle { model_output: number[]; noise: number[]; schedules: Record<string, OracleSchedule>; steps: OracleStep[] }

const skip = oracleSkip('animatelcm');
const load = oracleData('animatelcm', (dir) => JSON.parse(readFileSync(path.join(dir, 'animatelcm.json'), 'utf8')) as Oracle);
const C = ANIMATELCM_CONFIG;

/** Largest error relative to the largest |expected|. */
describe('AnimateLCM scheduler vs the published formulas', () => {
  test('σ grid and c_noise for 1 … 40 steps; diffusers\' consistency scheduler gives the same levels', { skip }, () => {
    const oracle = load();
    for (const [n, want] of Object.entries(oracle.schedules)) {
      const s = makeLcmSchedule(C, Number(n));
      // σ are float32 (one rounding of the float64 value): within 6e-8 relative per element.
      for (let i = 0; i < want.sigmas.length; i++) {
        assertClose([s.sigmas[i]], [want.sigmas[i]], 6e-8, `${n} steps σ[${i}]`);
        if (i < Number(n)) assertClose([s.sigmas[i]], [want.diffusers_cm_sigmas[i]], 1e-7, `${n} steps σ[${i}] vs diffusers`);
      }
      assert.equal(s.sigmas[Number(n)], 0);
      for (let i = 0; i < want.c_noise.length; i++) assertClose([s.timesteps[i]], [want.c_noise[i]], 1e-7, `${n} steps c_noise[${i}]`);
    }
  });

  test('c_in·x, D, the stochastic, deterministic and inverse steps (1e-6)', { skip }, () => {
    const oracle = load();
    const f = Float32Array.from(oracle.model_output);
    const z = Float32Array.from(oracle.noise);
    for (const st of oracle.steps) {
      const x = Float32Array.from(st.sample);
      const where = `σ ${st.sigma} → ${st.sigma_next}`;
      assertClose(lcmScaleModelInput(x, st.sigma, C), st.scaled, 1e-6, `${where} scaled`);
      assertClose(lcmDenoised(f, x, st.sigma, C), st.denoised, 1e-6, `${where} D`);
      assertClose(lcmStochasticStep(f, x, st.sigma, st.sigma_next, z, C), st.stochastic, 1e-6, `${where} stochastic`);
      assertClose(lcmDeterministicStep(f, x, st.sigma, st.sigma_next, C), st.deterministic, 1e-6, `${where} deterministic`);
      assertClose(lcmInverseStep(f, Float32Array.from(st.deterministic), st.sigma_next, st.sigma, C), st.inverse, 1e-5, `${where} inverse`);
    }
  });
});

describe('AnimateLCM scheduler: properties', () => {
  test('4 steps: levels 0, 10, 20, 30 of 40 (σ 700, 128.6, 13.68, 0.497), then 0; strength picks the last ⌊N·s⌋', () => {
    const s = makeLcmSchedule(C, 4);
    assert.deepEqual(Array.from(s.sigmas, (v) => Number(v.toPrecision(4))), [700, 128.6, 13.68, 0.4969, 0]);
    assert.equal(s.startIndex, 0);
    assert.equal(makeLcmSchedule(C, 4, 0.5).startIndex, 2);
    assert.equal(makeLcmSchedule(C, 8, 0.5).startIndex, 4);
    assert.equal(makeLcmSchedule(C, 8, 0.5).sigmas[4], makeLcmSchedule(C, 4, 0.5).sigmas[2]);
    assert.equal(lcmInitNoiseSigma(C), Math.fround(Math.sqrt(700 * 700 + 1)));
    assert.throws(() => makeLcmSchedule(C, 41), /1 to 40 steps/);
    assert.throws(() => makeLcmSchedule(C, 4, 0.2), /runs no step/);
  });

  test('the inverse step undoes the deterministic step for a fixed network output', () => {
    const rng = new Random(3);
    const f = rng.normals(50);
    const xHigh = rng.normals(50).map((v) => v * 14);
    for (const [lo, hi] of [[0, 0.4969], [0.4969, 13.68], [13.68, 128.6]]) {
      const xLow = lcmDeterministicStep(f, xHigh, hi, lo, C);
      assertClose(lcmInverseStep(f, xLow, lo, hi, C), Array.from(xHigh), 1e-5, `${lo} → ${hi}`);
    }
  });

  test('with σ_d = 1 the step and its inverse are SVD\'s v-prediction Euler step and Eq. 4', () => {
    const rng = new Random(5);
    const f = rng.normals(40);
    const x = rng.normals(40).map((v) => v * 3);
    assertClose(lcmDenoised(f, x, 3.17, C), Array.from(predictOriginal(f, x, 3.17, 'v_prediction')), 1e-6, 'D');
    assertClose(lcmDeterministicStep(f, x, 3.17, 0.497, C), Array.from(eulerStep(f, x, 3.17, 0.497, 'v_prediction')), 1e-6, 'step');
    assertClose(lcmInverseStep(f, x, 0.497, 3.17, C), Array.from(inverseEulerStep(f, x, 0.497, 3.17, 'v_prediction')), 1e-6, 'inverse');
  });

  test('the stochastic step at σ_next = 0 returns D whatever the noise', () => {
    const rng = new Random(7);
    const f = rng.normals(20);
    const x = rng.normals(20);
    assert.deepEqual(lcmStochasticStep(f, x, 0.497, 0, rng.normals(20), C), lcmDenoised(f, x, 0.497, C));
  });
});
