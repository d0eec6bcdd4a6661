/** The `videoshop` command line. Each command lives in its own module; this file only wires them up. */
import { Command } from 'commander';
import { parseIntArg, parseNumberArg } from './args.js';
import { addEditCommand } from './edit.js';
import { addEvalCommand } from './eval.js';
import { errorCode, isUserFacing, UserError } from './errors.js';
import { addFrameCommand } from './frame.js';
import { packageVersion } from './version.js';
import { scheduleCommand } from './schedule.js';
import { addServeCommand } from './serve.js';
import { addTrajectoryCommand } from './trajectory.js';
import { createTinyModel, TinyModelError } from '../models/tiny.js';

export function buildProgram(print: (line: string) => void): Command {
  const program = new Command('videoshop')
    .description('Edit the first frame of a video in any image editor; Videoshop propagates the edit to every frame.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  addEditCommand(program, print);
  addEvalCommand(program, print);
  addFrameCommand(program, print);
  addTrajectoryCommand(program, print);
  addServeCommand(program, print);

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
    .option('--force', 'replace <dir> if it holds a tiny model written by this command (nothing else is ever deleted)', false)
    .action((dir: string, opts: { seed: number; force: boolean }) => {
      try {
        createTinyModel(dir, { seed: opts.seed, force: opts.force });
      } catch (err) {
        if (err instanceof TinyModelError && err.code === 'not-empty') throw new UserError(`${dir} exists and is not empty: choose another folder, or pass --force to replace a tiny model there`);
        throw err;
      }
      print(`wrote a tiny random SVD to ${dir} (seed ${opts.seed})`);
    });

  return program;
}

/**
 * Runs the CLI; returns the process exit code. With `--json` anywhere on the command line every failure is also
 * printed as JSON on stdout, `{"error": {"code", "message"}}` (codes: see errorCode), so scripts never parse prose.
 */
export async function runCli(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  const json = argv.slice(2).includes('--json');
  const program = buildProgram(print);
  let usage = '';
  if (json) {
    // commander's own usage errors: keep their text for the JSON instead of printing it.
    const capture = (str: string) => { usage += str; };
    program.configureOutput({ writeErr: capture, outputError: capture });
    for (const cmd of program.commands) cmd.configureOutput({ writeErr: capture, outputError: capture });
  }
  const fail = (code: string, message: string, exitCode: number): number => {
    if (json) print(JSON.stringify({ error: { code, message } }));
    else console.error(`videoshop: ${message}`);
    return exitCode;
  };
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = (err as { code?: string; exitCode?: number }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
      const exit = 2; // bad usage is bad input (commander says 1)
      // Without --json commander already printed the usage error.
      if (json) print(JSON.stringify({ error: { code: 'usage', message: (usage.split('\n')[0] || (err as Error).message).replace(/^error: /, '') } }));
      return exit;
    }
    if (isUserFacing(err)) return fail(errorCode(err), err.message, (err as { exitCode?: number }).exitCode ?? 2);
    if (json) {
      print(JSON.stringify({ error: { code: 'internal', message: (err as Error)?.message ?? String(err) } }));
      console.error(err);
      return 1;
    }
    throw err;
  }
}
