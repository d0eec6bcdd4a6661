/**
 * The noise schedule a diffusers EulerDiscreteScheduler config gives, or AnimateLCM-SVD's (what `videoshop schedule`
 * prints).
 */
import { readFileSync } from 'node:fs';
import { defaultsFor, type SamplerName } from '../pipeline/options.js';
import { ANIMATELCM_CONFIG, lcmInitNoiseSigma, makeLcmSchedule } from '../schedulers/animatelcm.js';
import { initNoiseSigma, makeSchedule, parseEulerSchedulerConfig, type EulerSchedulerConfig } from '../schedulers/euler.js';
import { SVD_SCHEDULER_CONFIG } from '../schedulers/svd.js';
import { msg, option, VideoshopError } from '../util/errors.js';

export interface ScheduleTable {
  readonly scheduler: SamplerName;
  readonly steps: number;
  /** The fraction of the steps that run (the sampler's default when not given). */
  readonly strength: number;
  /** The first step that runs at this strength. */
  readonly startIndex: number;
  readonly initNoiseSigma: number;
  /** steps + 1 values, the last the final σ. */
  readonly sigmas: readonly number[];
  readonly timesteps: readonly number[];
}

function readConfig(file: string): EulerSchedulerConfig {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    throw new VideoshopError('bad_input', msg`cannot read scheduler config ${file}: give a diffusers scheduler_config.json with ${option('config')}`);
  }
  try {
    return parseEulerSchedulerConfig(JSON.parse(raw), file);
  } catch (err) {
    if (err instanceof SyntaxError) throw new VideoshopError('bad_config', `${file} is not valid JSON`);
    throw err;
  }
}

/**
 * `scheduler`: euler (default; `config`, a scheduler_config.json, or SVD's built in) or animatelcm (its published
 * settings; no config). Steps and strength default to the sampler's edit defaults.
 */
export function scheduleTable(o: { config?: string; scheduler?: SamplerName; steps?: number; strength?: number }): ScheduleTable {
  const scheduler = o.scheduler ?? 'euler';
  const defaults = defaultsFor(scheduler);
  const steps = o.steps ?? defaults.steps;
  const strength = o.strength ?? defaults.strength;
  if (scheduler === 'animatelcm' && o.config !== undefined) {
    throw new VideoshopError('bad_option', msg`${option('config')} is for Euler configs: the animatelcm scheduler has its published settings built in`,
      { field: 'config' });
  }
  const config = scheduler === 'animatelcm' ? undefined
    : o.config === undefined ? parseEulerSchedulerConfig(SVD_SCHEDULER_CONFIG, 'built-in SVD scheduler config') : readConfig(o.config);
  let s;
  try {
    s = config ? makeSchedule(config, steps, strength) : makeLcmSchedule(ANIMATELCM_CONFIG, steps, strength);
  } catch (err) {
    if (err instanceof RangeError) throw new VideoshopError('bad_option', err.message, { cause: err });
    throw err;
  }
  return {
    scheduler, steps: s.numSteps, strength, startIndex: s.startIndex,
    initNoiseSigma: config ? initNoiseSigma(config, s) : lcmInitNoiseSigma(ANIMATELCM_CONFIG),
    sigmas: Array.from(s.sigmas), timesteps: Array.from(s.timesteps),
  };
}
