/** `videoshop schedule`: print the noise schedule a scheduler gives (sigmas, c_noise, which steps run). */
import { scheduleTable } from '../eval/schedule.js';

export interface ScheduleCommandOptions {
  config?: string;
  scheduler?: 'euler' | 'animatelcm';
  steps?: number;
  strength?: number;
  json: boolean;
}

export function scheduleCommand(opts: ScheduleCommandOptions, print: (line: string) => void): void {
  const s = scheduleTable(opts);
  if (opts.json) {
    print(JSON.stringify({
      scheduler: s.scheduler, steps: s.steps, strength: s.strength, startIndex: s.startIndex, initNoiseSigma: s.initNoiseSigma,
      sigmas: s.sigmas, timesteps: s.timesteps,
    }));
    return;
  }
  print(`${s.scheduler}, ${s.steps} steps, strength ${s.strength}: steps ${s.startIndex}…${s.steps - 1} run (${s.steps - s.startIndex} steps)`);
  print('step   sigma        c_noise     runs');
  for (let i = 0; i < s.steps; i++) {
    const sigma = s.sigmas[i].toExponential(5).padEnd(11);
    print(`${String(i).padStart(4)}   ${sigma}  ${s.timesteps[i].toFixed(6).padStart(10)}  ${i >= s.startIndex ? 'yes' : ''}`);
  }
  print(`final  ${s.sigmas[s.steps].toExponential(5)}`);
}
