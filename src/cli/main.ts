/** The `videoshop` command line. Each command lives in its own module; this file only wires them up. */
import { Command } from 'commander';
import { parseIntArg, parseNumberArg } from './args.js';
import { addEditCommand } from './edit.js';
import { addEvalCommand } from './eval.js';
import { addFrameCommand } from './frame.js';
import { isUserFacing } from './errors.js';
import { scheduleCommand } from './schedule.js';
import { addTrajectoryCommand } from './trajectory.js';
import { createTinyModel } from '../models/tiny.js';

export function buildProgram(print: (line: string) => void): Command {
  const program = new Command('videoshop')
    .description('Edit the first frame of a video in any image editor; Videoshop propagates the edit to every frame.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  addEditCommand(program, print);
  addEvalCommand(program, print);
  addFrameCommand(program, print);
  addTrajectoryCommand(program, print);

  program
    .command('schedule')
    .description("print the noise schedule (sigmas, c_noise, the steps that run) of a diffusers EulerDiscreteScheduler config")
    .option('--config <file>', "a model's scheduler_config.json (default: SVD's, built in)")
    .option('--steps <n>', 'number of inference steps', parseIntArg('--steps'), 25)
    .option('--strength <s>', 'fraction of the steps that run, from the noisy end (0, 1]', parseNumberArg('--strength'), 0.55)
    .option('--json', 'print JSON instead of a table', false)
    .action((opts) => scheduleCommand(opts, print));

  program
    .command('create-tiny-model')
    .description('write a tiny random Stable Video Diffusion (diffusers layout) to <dir>, for tests and trying Videoshop offline')
    .argument('<dir>', 'output folder (created; must be empty or absent)')
    .option('--seed <n>', 'seed of the random weights', parseIntArg('--seed'), 0)
    .option('--force', 'replace <dir> if it already has files', false)
    .action((dir: string, opts: { seed: number; force: boolean }) => {
      createTinyModel(dir, { seed: opts.seed, force: opts.force });
      print(`wrote a tiny random SVD to ${dir} (seed ${opts.seed})`);
    });

  return program;
}

/** Runs the CLI; returns the process exit code. */
export async function runCli(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  const program = buildProgram(print);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = (err as { code?: string; exitCode?: number }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // commander already printed help or the usage error.
      return code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : ((err as { exitCode?: number }).exitCode ?? 2);
    }
    if (isUserFacing(err)) {
      console.error(`videoshop: ${err.message}`);
      return (err as { exitCode?: number }).exitCode ?? 2;
    }
    throw err;
  }
}
