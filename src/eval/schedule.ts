/** The noise schedule a diffusers EulerDiscreteScheduler config gives (what `videoshop schedule` prints). */
import { readFileSync } from 'node:fs';
import { initNoiseSigma, makeSchedule, parseEulerSchedulerConfig, type EulerSchedulerConfig } from '../schedulers/euler.js';
import { SVD_SCHEDULER_CONFIG } from '../schedulers/svd.js';
import { msg, option, VideoshopError } from '../util/errors.js';

export interface ScheduleTable {
  readonly steps: number;
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

/** `config`: a scheduler_config.json (default: SVD's, built in). */
export function scheduleTable(o: { config?: string; steps: number; strength: number }): ScheduleTable {
  const config = o.config === undefined ? parseEulerSchedulerConfig(SVD_SCHEDULER_CONFIG, 'built-in SVD scheduler config') : readConfig(o.config);
  let s;
  try {
    s = makeSchedule(config, o.steps, o.strength);
  } catch (err) {
    if (err instanceof RangeError) throw new VideoshopError('bad_option', err.message, { cause: err });
    throw err;
  }
  return {
    steps: s.numSteps, startIndex: s.startIndex, initNoiseSigma: initNoiseSigma(config, s), sigmas: Array.from(s.sigmas), timesteps: Array.from(s.timesteps),
  };
}
