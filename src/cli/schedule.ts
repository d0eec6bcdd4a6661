/** `videoshop schedule`: print the noise schedule a scheduler config gives (sigmas, c_noise, which steps run). */
import { readFileSync } from 'node:fs';
import { initNoiseSigma, makeSchedule, parseEulerSchedulerConfig, type EulerSchedulerConfig } from '../schedulers/euler.js';
import { SVD_SCHEDULER_CONFIG } from '../schedulers/svd.js';
import { UserError } from './errors.js';

export interface ScheduleCommandOptions {
  config?: string;
  steps: number;
  strength: number;
  json: boolean;
}

function readConfig(file: string): EulerSchedulerConfig {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read scheduler config ${file}: give a diffusers scheduler_config.json with --config`);
  }
  try {
    return parseEulerSchedulerConfig(JSON.parse(raw), file);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserError(`${file} is not valid JSON`);
    throw err;
  }
}

export function scheduleCommand(opts: ScheduleCommandOptions, print: (line: string) => void): void {
  const config = opts.config === undefined
    ? parseEulerSchedulerConfig(SVD_SCHEDULER_CONFIG, 'built-in SVD scheduler config')
    : readConfig(opts.config);
  const s = makeSchedule(config, opts.steps, opts.strength);
  if (opts.json) {
    print(JSON.stringify({
      steps: s.numSteps,
      startIndex: s.startIndex,
      initNoiseSigma: initNoiseSigma(config, s),
      sigmas: Array.from(s.sigmas),
      timesteps: Array.from(s.timesteps),
    }));
    return;
  }
  print(`${s.numSteps} steps, strength ${opts.strength}: steps ${s.startIndex}…${s.numSteps - 1} run (${s.numSteps - s.startIndex} steps)`);
  print('step   sigma        c_noise     runs');
  for (let i = 0; i < s.numSteps; i++) {
    const sigma = s.sigmas[i].toExponential(5).padEnd(11);
    print(`${String(i).padStart(4)}   ${sigma}  ${s.timesteps[i].toFixed(6).padStart(10)}  ${i >= s.startIndex ? 'yes' : ''}`);
  }
  print(`final  ${s.sigmas[s.numSteps].toExponential(5)}`);
}
