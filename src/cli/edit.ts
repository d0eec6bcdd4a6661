/**
 * `videoshop edit`: the main job, for a person at a terminal (progress, Ctrl-C) or a script (--json). Its options are
 * the edit schema's fields (src/edit/schema.ts: names, defaults, ranges, help), plus how this command prints.
 */
import { Option, type Command } from 'commander';
import {
  defaultText, EDIT_FIELDS, editVideo, VideoshopError, type EditProgress, type EditRequest, type FieldSpec,
} from '../edit/index.js';
import { fieldArg } from './args.js';
import { createEditDisplay } from './edit-progress.js';
import { createProgress, messagePrinter } from './progress.js';

/** The command's own options (how it prints), next to the request's fields. */
interface PrintFlags {
  quiet: boolean;
  verbose: boolean;
  json: boolean;
}

/** The schema's help line for the CLI: the help, the choices, the default. */
function helpOf(spec: FieldSpec): string {
  const parts = [spec.help];
  if (spec.choices && spec.choices.length <= 6) parts.push(`(${spec.choices.join(', ')})`);
  const d = defaultText(spec);
  if (d !== undefined && spec.type !== 'boolean') parts.push(`(default ${d})`);
  return parts.join(' ');
}

/** Commander options for one schema field. */
function optionsOf(spec: FieldSpec): Option[] {
  const flags = `${spec.short ? `-${spec.short}, ` : ''}--${spec.name}`;
  if (spec.type === 'boolean') {
    // A switch that is on by default is turned off with --no-<name>.
    return [spec.default === true ? new Option(`--no-${spec.name}`, `turn off: ${spec.help}`) : new Option(flags, spec.help)];
  }
  const valued = new Option(`${flags} <${spec.placeholder ?? 'value'}>`, helpOf(spec));
  // A list (`--keyframe` again and again) collects its values; any other option takes its last.
  if (spec.type === 'keyframes') valued.argParser((value: string, previous: unknown) => [...(Array.isArray(previous) ? previous : []), ...fieldArg(spec)(value) as unknown[]]);
  else valued.argParser(fieldArg(spec));
  if (spec.required) valued.makeOptionMandatory();
  return spec.offHelp ? [valued, new Option(`--no-${spec.name}`, spec.offHelp)] : [valued];
}

export function addEditCommand(program: Command, print: (line: string) => void): void {
  const command = program
    .command('edit')
    .description('propagate an edit of the first frame to the whole video');
  for (const spec of EDIT_FIELDS) {
    if (spec.name === 'video') command.argument('<video>', spec.help);
    else for (const o of optionsOf(spec)) command.addOption(o);
  }
  command
    .option('-q, --quiet', 'print only the output path', false)
    .option('-v, --verbose', 'one progress line per stage and block instead of one live line for the whole edit', false)
    .option('--json', 'print a JSON result (timings per stage) on stdout; errors too, as {"error": {"code", "message"}}', false)
    .action(async (video: string, flags: Record<string, unknown>) => {
      await runEdit(requestOf(video, flags), flags as unknown as PrintFlags, print);
    });
}

/** The request from the parsed flags: each schema field under its key (commander's attribute names are the same). */
function requestOf(video: string, flags: Record<string, unknown>): EditRequest {
  const request: Record<string, unknown> = { video };
  for (const spec of EDIT_FIELDS) {
    const value = flags[spec.key];
    if (value !== undefined && spec.name !== 'video') request[spec.key] = value;
  }
  return request as unknown as EditRequest;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_NUMBER: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

async function runEdit(request: EditRequest, flags: PrintFlags, print: (line: string) => void): Promise<void> {
  const controller = new AbortController();
  // SIGTERM (kill, systemd, docker stop) and SIGHUP (terminal closed) clean up exactly like Ctrl-C.
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.once(s, onSignal);
  const bar = flags.quiet ? { update() {}, done() {} } : flags.verbose ? verboseDisplay() : createEditDisplay();
  const warn = messagePrinter(bar, flags.quiet, 'warning');
  try {
    const result = await editVideo(request, {
      signal: controller.signal,
      onProgress: (p: EditProgress) => bar.update(p),
      onWarning: (_message, w) => warn(w.parts),
    });
    bar.done();
    if (flags.json) print(JSON.stringify(result));
    else if (flags.quiet) print(result.output);
    else {
      process.stderr.write(`wrote ${result.output}: ${result.frames} frames, ${result.width}×${result.height}, ` +
        `${result.fps.toFixed(3).replace(/\.?0+$/, '')} fps, audio ${result.audio}, in ${(result.timings.total / 1000).toFixed(1)} s\n`);
    }
  } catch (err) {
    bar.done();
    if (controller.signal.aborted) {
      const signal = stoppedBy ?? 'SIGINT';
      throw new VideoshopError('interrupted', `stopped (${signal === 'SIGINT' ? 'Ctrl-C' : signal}): no output was written`,
        { params: { signal, exitCode: 128 + (SIGNAL_NUMBER[signal] ?? 2) }, cause: err });
    }
    throw err;
  } finally {
    for (const s of STOP_SIGNALS) process.removeListener(s, onSignal);
  }
}

/** --verbose: a line (bar, k/N, ETA of the stage) per stage and block. */
function verboseDisplay(): { update(p: EditProgress): void; done(): void } {
  const sink = createProgress();
  const label = (p: EditProgress) => (p.blocks && p.blocks > 1 && p.stage !== 'write' ? `${p.stage} ${p.block}/${p.blocks}` : p.stage);
  return { update: (p) => sink.update({ stage: label(p), step: p.step, total: p.total, unit: p.unit }), done: () => sink.done() };
}
