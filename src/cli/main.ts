/**
 * The `videoshop` command line: each command lives in its own module; this file wires them up and reports failures.
 * Commands of other shells (the server's `serve` and `worker`) are added by the composition root, src/main.ts, so
 * the CLI never imports them.
 */
import { Command } from 'commander';
import { createTinyModel } from '../edit/index.js';
import { choiceArg, intArg, numberArg } from './args.js';
import { addEditCommand } from './edit.js';
import { addEvalCommand } from './eval.js';
import { cliMessage, exitCodeOf, isVideoshopError } from './errors.js';
import { addFrameCommand } from './frame.js';
import { packageVersion } from './version.js';
import { scheduleCommand } from './schedule.js';
import { addTrajectoryCommand } from './trajectory.js';

/** Adds commands to the program (src/server/command.ts adds `serve` and `worker`). */
export type CommandSet = (program: Command, print: (line: string) => void) => void;

export function buildProgram(print: (line: string) => void, extra: readonly CommandSet[] = []): Command {
  const program = new Command('videoshop')
    .description('Edit the first frame of a video in any image editor; Videoshop propagates the edit to every frame.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride();

  addEditCommand(program, print);
  addEvalCommand(program, print);
  addFrameCommand(program, print);
  addTrajectoryCommand(program, print);
  for (const add of extra) add(program, print);

  program
    .command('schedule')
    .description("print the noise schedule (sigmas, c_noise, the steps that run) of a diffusers EulerDiscreteScheduler config, or AnimateLCM-SVD's")
    .option('--scheduler <name>', "euler (SVD's, or --config's) or animatelcm (AnimateLCM-SVD's few-step grid)", choiceArg('scheduler', ['euler', 'animatelcm']), 'euler')
    .option('--config <file>', "a model's scheduler_config.json (default: SVD's, built in)")
    .option('--steps <n>', "number of inference steps (default: the edit's, 25 for euler; animatelcm's own)", intArg('steps', 1, 1000))
    .option('--strength <s>', "fraction of the steps that run, from the noisy end (0, 1] (default: the edit's, 0.55 for euler)", numberArg('strength'))
    .option('--json', 'print JSON instead of a table', false)
    .action((opts) => scheduleCommand(opts, print));

  program
    .command('create-tiny-model')
    .description('write a tiny random Stable Video Diffusion (diffusers layout) to <dir>, for tests and trying Videoshop offline')
    .argument('<dir>', 'output folder (created; must be empty or absent)')
    .option('--seed <n>', 'seed of the random weights', intArg('seed', 0), 0)
    .option('--force', 'replace <dir> if it holds a tiny model written by this command (nothing else is ever deleted)', false)
    .action((dir: string, opts: { seed: number; force: boolean }) => {
      createTinyModel(dir, { seed: opts.seed, force: opts.force });
      print(`wrote a tiny random SVD to ${dir} (seed ${opts.seed})`);
    });

  return program;
}

/** Commander's own errors (unknown option, missing argument) as one line, like every other refusal. */
function oneLineUsage(program: Command, capture: (line: string) => void): void {
  const configure = (cmd: Command) => {
    cmd.configureOutput({
      outputError: (str) => capture(`${str.split('\n')[0].replace(/^error: /, '')} (see videoshop ${cmd.name() === 'videoshop' ? '' : `${cmd.name()} `}--help)`),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
}

/**
 * Runs the CLI; returns the process exit code. With `--json` anywhere on the command line every failure is also
 * printed as JSON on stdout, `{"error": {"code", "message"}}` (codes: docs/api.md), so scripts never parse prose.
 */
export async function runCli(argv: string[], print: (line: string) => void = console.log, extra: readonly CommandSet[] = []): Promise<number> {
  const json = argv.slice(2).includes('--json');
  const program = buildProgram(print, extra);
  let usage = '';
  oneLineUsage(program, (line) => {
    usage = line;
  });
  const fail = (code: string, message: string, exitCode: number): number => {
    if (json) print(JSON.stringify({ error: { code, message } }));
    else console.error(`videoshop: ${message}`);
    return exitCode;
  };
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
      return fail('usage', usage || (err as Error).message.replace(/^error: /, ''), 2); // bad usage is bad input (commander says 1)
    }
    if (isVideoshopError(err)) return fail(err.code, cliMessage(err), exitCodeOf(err));
    if (json) {
      print(JSON.stringify({ error: { code: 'internal', message: (err as Error)?.message ?? String(err) } }));
      console.error(err);
      return 1;
    }
    throw err;
  }
}
