/**
 * SVD's scheduler: diffusers' EulerDiscreteScheduler, as pure math on typed arrays, plus the implicit
 * inverse step the Videoshop paper inverts with (Eq. 4). Values follow diffusers' float32 arithmetic
 * so that schedules agree with it to float32 rounding.
 */
import { asObject, bool, ConfigError, int, num, optNum, str, type Json } from '../util/config.js';

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

export interface EulerSchedulerConfig {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
  readonly trainedBetas: readonly number[] | undefined;
  readonly predictionType: PredictionType;
  readonly interpolationType: 'linear' | 'log_linear';
  readonly useKarrasSigmas: boolean;
  readonly sigmaMin: number | undefined;
  readonly sigmaMax: number | undefined;
  readonly timestepSpacing: 'linspace' | 'leading' | 'trailing';
  readonly timestepType: 'discrete' | 'continuous';
  readonly stepsOffset: number;
  readonly finalSigmasType: 'zero' | 'sigma_min';
}

/** Reads a diffusers `scheduler_config.json` (EulerDiscreteScheduler), with diffusers' defaults. */
export function parseEulerSchedulerConfig(value: unknown, where = 'scheduler_config.json'): EulerSchedulerConfig {
  const o: Json = asObject(value, where);
  if (o._class_name !== undefined && o._class_name !== 'EulerDiscreteScheduler') {
    throw new ConfigError(`${where}: "_class_name" must be EulerDiscreteScheduler (Videoshop inverts with it), got ${JSON.stringify(o._class_name)}`);
  }
  for (const flag of ['use_exponential_sigmas', 'use_beta_sigmas', 'rescale_betas_zero_snr']) {
    if (o[flag] === true) throw new ConfigError(`${where}: "${flag}": true is not supported`);
  }
  const trained = o.trained_betas;
  if (trained !== undefined && trained !== null && !(Array.isArray(trained) && trained.every((b) => typeof b === 'number'))) {
    throw new ConfigError(`${where}: "trained_betas" must be null or a list of numbers`);
  }
  const config: EulerSchedulerConfig = {
    numTrainTimesteps: int(o, 'num_train_timesteps', where, 1000),
    betaStart: num(o, 'beta_start', where, 0.0001),
    betaEnd: num(o, 'beta_end', where, 0.02),
    betaSchedule: str(o, 'beta_schedule', where, ['linear', 'scaled_linear', 'squaredcos_cap_v2'], 'linear'),
    trainedBetas: Array.isArray(trained) ? (trained as number[]) : undefined,
    predictionType: str(o, 'prediction_type', where, ['epsilon', 'v_prediction', 'sample'], 'epsilon'),
    interpolationType: str(o, 'interpolation_type', where, ['linear', 'log_linear'], 'linear'),
    useKarrasSigmas: bool(o, 'use_karras_sigmas', where, false),
    sigmaMin: optNum(o, 'sigma_min', where),
    sigmaMax: optNum(o, 'sigma_max', where),
    timestepSpacing: str(o, 'timestep_spacing', where, ['linspace', 'leading', 'trailing'], 'linspace'),
    timestepType: str(o, 'timestep_type', where, ['discrete', 'continuous'], 'discrete'),
    stepsOffset: int(o, 'steps_offset', where, 0),
    finalSigmasType: str(o, 'final_sigmas_type', where, ['zero', 'sigma_min'], 'zero'),
  };
  if (config.numTrainTimesteps < 2) throw new ConfigError(`${where}: "num_train_timesteps" must be at least 2`);
  return config;
}

/** A denoising schedule: `sigmas[i]` is the noise level before step i; the last entry is the final level. */
export interface Schedule {
  readonly numSteps: number;
  /** numSteps + 1 noise levels, descending (float32 values, as diffusers stores them). */
  readonly sigmas: Float32Array;
  /** numSteps network timesteps: c_noise = 0.25·ln σ for continuous v-prediction, else discrete t. */
  readonly timesteps: Float32Array;
  /** First step that runs for the requested strength (the steps before it are skipped). */
  readonly startIndex: number;
}

/**
 * The step index a partial run starts from: the last ⌊strength·steps⌋ steps run, as in diffusers'
 * img2img pipelines and the Videoshop reference (strength 0.55 of 25 steps → 13 steps, from index 12).
 */
export function startIndexFor(numSteps: number, strength: number): number {
  if (!(strength > 0 && strength <= 1)) throw new RangeError(`strength must be in (0, 1], got ${strength}`);
  const run = Math.min(Math.floor(numSteps * strength), numSteps);
  if (run < 1) throw new RangeError(`strength ${strength} of ${numSteps} steps runs no step; raise the strength or the number of steps`);
  return numSteps - run;
}

const f32 = Math.fround;

/**
 * alphas_cumprod as diffusers computes them: betas from a float32 torch.linspace, and torch's CPU cumprod,
 * which accumulates in float64 and rounds each partial product to float32.
 */
export function alphasCumprod(config: EulerSchedulerConfig): Float32Array {
  const n = config.numTrainTimesteps;
  let betas: Float32Array;
  if (config.trainedBetas) {
    betas = Float32Array.from(config.trainedBetas);
  } else if (config.betaSchedule === 'linear') {
    betas = torchLinspace32(config.betaStart, config.betaEnd, n);
  } else if (config.betaSchedule === 'scaled_linear') {
    betas = torchLinspace32(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), n).map((b) => b * b);
  } else {
    const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
    betas = Float32Array.from({ length: n }, (_, i) => Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999));
  }
  const out = new Float32Array(betas.length);
  let prod = 1;
  for (let i = 0; i < betas.length; i++) {
    prod *= f32(1 - betas[i]);
    out[i] = prod;
  }
  return out;
}

/** The training noise levels σ_t = √((1 − ᾱ_t)/ᾱ_t), t = 0 … T−1 (ascending). */
export function trainingSigmas(config: EulerSchedulerConfig): Float64Array {
  return Float64Array.from(alphasCumprod(config), (a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
}

/** Builds the schedule for `numSteps` steps (diffusers' `set_timesteps`) and the strength's start index. */
export function makeSchedule(config: EulerSchedulerConfig, numSteps: number, strength = 1): Schedule {
  if (!Number.isInteger(numSteps) || numSteps < 1) throw new RangeError(`steps must be a positive integer, got ${numSteps}`);
  const startIndex = startIndexFor(numSteps, strength);
  const train = trainingSigmas(config);
  // numpy takes these logs in float32 (the training sigmas are a float32 array).
  const logTrain = train.map((s) => f32(Math.log(s)));
  const T = config.numTrainTimesteps;

  let ts: Float64Array;
  if (config.timestepSpacing === 'linspace') {
    ts = linspace(0, T - 1, numSteps).map(f32).reverse();
  } else if (config.timestepSpacing === 'leading') {
    const ratio = Math.floor(T / numSteps);
    ts = Float64Array.from({ length: numSteps }, (_, i) => Math.round(i * ratio) + config.stepsOffset).reverse();
  } else {
    ts = numpyArange(T, 0, -T / numSteps).map((t) => roundHalfEven(t) - 1);
    if (ts.length !== numSteps) {
      // numpy.arange's float length rounds up here, so diffusers itself would run an extra step.
      throw new RangeError(`"trailing" timestep spacing gives ${ts.length} timesteps for ${numSteps} steps; choose another step count`);
    }
  }

  let sigmas: Float64Array;
  if (config.interpolationType === 'linear') {
    sigmas = ts.map((t) => interp(t, train));
  } else {
    const logSpaced = torchLinspace32(logTrain[logTrain.length - 1], logTrain[0], numSteps + 1);
    sigmas = Float64Array.from(logSpaced, (x) => f32(Math.exp(x)));
  }
  if (config.useKarrasSigmas) {
    const sMin = config.sigmaMin ?? sigmas[sigmas.length - 1];
    const sMax = config.sigmaMax ?? sigmas[0];
    const rho = 7;
    const minInv = sMin ** (1 / rho);
    const maxInv = sMax ** (1 / rho);
    const ramp = linspace(0, 1, numSteps);
    sigmas = ramp.map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
    ts = sigmas.map((s) => sigmaToT(s, logTrain));
  }
  const last = config.finalSigmasType === 'zero' ? 0 : train[0];
  const allSigmas = new Float32Array(sigmas.length + 1);
  allSigmas.set(sigmas);
  allSigmas[sigmas.length] = last;

  const timesteps = new Float32Array(numSteps);
  const continuous = config.timestepType === 'continuous' && config.predictionType === 'v_prediction';
  for (let i = 0; i < numSteps; i++) {
    timesteps[i] = continuous ? f32(0.25 * f32(Math.log(allSigmas[i]))) : ts[i];
  }
  return { numSteps, sigmas: allSigmas, timesteps, startIndex };
}

/** Standard deviation of the initial noise (diffusers' `init_noise_sigma`). */
export function initNoiseSigma(config: EulerSchedulerConfig, schedule: Schedule): number {
  let max = 0;
  for (const s of schedule.sigmas) max = Math.max(max, s);
  // diffusers computes (σ_max² + 1)^½ on a float32 tensor.
  return config.timestepSpacing === 'linspace' || config.timestepSpacing === 'trailing' ? max : f32(Math.sqrt(f32(f32(max * max) + 1)));
}

/** EDM preconditioning (Karras et al.): D(x; σ) = c_skip·x + c_out·F(c_in·x; c_noise). */
export interface Preconditioning {
  readonly cSkip: number;
  readonly cOut: number;
  readonly cIn: number;
}

export function preconditioning(sigma: number, prediction: PredictionType): Preconditioning {
  const cIn = 1 / Math.sqrt(sigma * sigma + 1);
  switch (prediction) {
    case 'v_prediction':
      return { cSkip: 1 / (sigma * sigma + 1), cOut: -sigma / Math.sqrt(sigma * sigma + 1), cIn };
    case 'epsilon':
      return { cSkip: 1, cOut: -sigma, cIn };
    case 'sample':
      return { cSkip: 0, cOut: 1, cIn };
  }
}

/** The network input c_in(σ)·x (diffusers' `scale_model_input`). */
export function scaleModelInput(sample: Float32Array, sigma: number): Float32Array {
  const c = 1 / Math.sqrt(sigma * sigma + 1);
  return sample.map((x) => x * c);
}

/** The denoised estimate D = c_skip·x + c_out·F (diffusers' `pred_original_sample`). */
export function predictOriginal(modelOutput: Float32Array, sample: Float32Array, sigma: number, prediction: PredictionType): Float32Array {
  const { cSkip, cOut } = preconditioning(sigma, prediction);
  checkSameLength(modelOutput, sample);
  return sample.map((x, i) => cSkip * x + cOut * modelOutput[i]);
}

/**
 * One deterministic Euler step from σ to σ_next (paper Eq. 3, diffusers' `step` without churn):
 * x_next = x + (σ_next − σ)/σ · (x − D).
 */
export function eulerStep(
  modelOutput: Float32Array,
  sample: Float32Array,
  sigma: number,
  sigmaNext: number,
  prediction: PredictionType,
): Float32Array {
  const { cSkip, cOut } = preconditioning(sigma, prediction);
  checkSameLength(modelOutput, sample);
  const ratio = (sigmaNext - sigma) / sigma;
  return sample.map((x, i) => x + ratio * (x - (cSkip * x + cOut * modelOutput[i])));
}

/**
 * The implicit inverse of `eulerStep` (paper Eq. 4): given x̂_t at the lower level σ_t and the network's
 * output F at the higher level σ_{t+1}, returns x̂_{t+1} such that an Euler step from σ_{t+1} with that
 * same F lands on x̂_t:
 *   x̂_{t+1} = (σ_{t+1}·x̂_t + (σ_t − σ_{t+1})·c_out·F) / ((σ_t − σ_{t+1})·(1 − c_skip) + σ_{t+1}),
 * with c_skip, c_out taken at σ_{t+1}. Which input F saw (x̂_t, the extrapolation x̄_{t+1}, …) is the
 * caller's choice; that is exactly where naive and noise-extrapolated inversion differ.
 */
export function inverseEulerStep(
  modelOutput: Float32Array,
  sample: Float32Array,
  sigmaLow: number,
  sigmaHigh: number,
  prediction: PredictionType,
): Float32Array {
  if (!(sigmaHigh > 0)) throw new RangeError(`inverse step needs σ_{t+1} > 0, got ${sigmaHigh}`);
  const { cSkip, cOut } = preconditioning(sigmaHigh, prediction);
  checkSameLength(modelOutput, sample);
  const d = sigmaLow - sigmaHigh;
  const den = d * (1 - cSkip) + sigmaHigh;
  // Only a sample-predicting model stepping to σ_t = 0 gets here: its Euler step lands on F whatever x̂_{t+1} was.
  if (den === 0) throw new RangeError(`an Euler step to σ = ${sigmaLow} with ${prediction} prediction cannot be inverted`);
  return sample.map((x, i) => (sigmaHigh * x + d * cOut * modelOutput[i]) / den);
}

function checkSameLength(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) throw new RangeError(`model output has ${a.length} values but the sample has ${b.length}`);
}

/** numpy.linspace in float64. */
function linspace(start: number, end: number, n: number): Float64Array {
  if (n === 1) return Float64Array.of(start);
  const step = (end - start) / (n - 1);
  return Float64Array.from({ length: n }, (_, i) => (i === n - 1 ? end : start + i * step));
}

/**
 * torch.linspace(start, end, n) in float32 as torch's CPU kernel computes it: a float32 step, the first half
 * counted up from start and the second half down from end, each value rounded once.
 */
function torchLinspace32(start: number, end: number, n: number): Float32Array {
  const a = f32(start);
  const b = f32(end);
  if (n === 1) return Float32Array.of(a);
  const step = f32(f32(b - a) / (n - 1));
  const half = Math.floor(n / 2);
  return Float32Array.from({ length: n }, (_, i) => (i < half ? a + step * i : b - step * (n - 1 - i)));
}

/** numpy.arange(start, stop, step) for floats: ⌈(stop − start)/step⌉ values start + i·(first gap). */
function numpyArange(start: number, stop: number, step: number): Float64Array {
  const length = Math.max(Math.ceil((stop - start) / step), 0);
  const gap = start + step - start;
  return Float64Array.from({ length }, (_, i) => start + i * gap);
}

/** numpy.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy.interp(t, arange(len(ys)), ys). */
function interp(t: number, ys: Float64Array): number {
  if (t <= 0) return ys[0];
  if (t >= ys.length - 1) return ys[ys.length - 1];
  const i = Math.floor(t);
  const w = t - i;
  return ys[i] + (ys[i + 1] - ys[i]) * w;
}

/** diffusers' `_sigma_to_t`: the fractional training timestep whose log-σ matches. */
function sigmaToT(sigma: number, logSigmas: Float64Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i] >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low];
  const hi = logSigmas[low + 1];
  // logSigmas is float32 in diffusers, so lo − hi is rounded to float32; lo − logSigma is float64.
  const w = Math.min(Math.max((lo - logSigma) / f32(lo - hi), 0), 1);
  return (1 - w) * low + w * (low + 1);
}
