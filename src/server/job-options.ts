/**
 * A job's options are `videoshop edit`'s, by the same names (`{"steps": 25, "min-guidance": 3}`), parsed by the
 * same commander parsers: the schema, defaults and help texts the page shows come from the command itself.
 */
import { Command, type Option } from 'commander';
import { addEditCommand, editOptionsFromFlags, FLAG_OF, type EditFlags } from '../cli/edit.js';
import type { EditOptions } from '../edit/options.js';
import { DEFAULT_OPTIONS } from '../pipeline/options.js';
import { HttpError } from './http-error.js';

/** Flags that name files, pick the model/device (the server's, loaded once) or shape terminal output. */
const SERVER_OWNED = new Set(['edited-frame', 'output', 'frames-dir', 'force', 'quiet', 'json', 'model', 'device', 'dtype']);

export interface OptionSpec {
  /** The CLI's name without dashes, as used in the options JSON. */
  readonly name: string;
  readonly help: string;
  readonly type: 'number' | 'integer' | 'boolean' | 'choice' | 'size';
  readonly default?: number | string | boolean | null;
  readonly choices?: readonly string[];
}

interface Known {
  option: Option;
  spec: OptionSpec;
}

function editCommand(): Command {
  const root = new Command();
  addEditCommand(root, () => {});
  return root.commands[0];
}

const DEFAULT_BY_FLAG: Record<string, number | null> = Object.fromEntries(
  Object.entries(FLAG_OF).map(([key, flag]) => [flag.slice(2), (DEFAULT_OPTIONS as unknown as Record<string, number | null>)[key]]),
);

/** A commander parser tells integers from numbers by its refusal of a non-number. */
function numberKind(option: Option): 'integer' | 'number' {
  try {
    option.parseArg?.('x', undefined as never);
  } catch (err) {
    return /integer/.test((err as Error).message) ? 'integer' : 'number';
  }
  return 'number';
}

function specOf(option: Option, name: string): OptionSpec {
  const help = option.description;
  if (option.negate) return { name, help, type: 'boolean', default: true };
  if (option.argChoices) return { name, help, type: 'choice', choices: option.argChoices, default: option.defaultValue as string | undefined };
  if (!option.required && !option.optional) return { name, help, type: 'boolean', default: false };
  if (name === 'size') return { name, help, type: 'size' };
  return { name, help, type: numberKind(option), default: DEFAULT_BY_FLAG[name] };
}

function catalogue(): Map<string, Known[]> {
  const byName = new Map<string, Known[]>();
  for (const option of editCommand().options as Option[]) {
    const name = option.long?.replace(/^--(no-)?/, '');
    if (!name || SERVER_OWNED.has(name)) continue;
    byName.set(name, [...(byName.get(name) ?? []), { option, spec: specOf(option, name) }]);
  }
  return byName;
}

const CATALOGUE = catalogue();

/** The job options the API accepts, for the page's settings form (GET /api/options). */
export function optionSpecs(): OptionSpec[] {
  return [...CATALOGUE.values()].map((known) => {
    // `--threshold <σ>` and `--no-threshold` share a name: the value form, which also accepts false.
    const valued = known.find((k) => !k.option.negate) ?? known[0];
    const negated = known.find((k) => k.option.negate);
    if (negated && valued !== negated) return { ...valued.spec, help: `${valued.spec.help}; false: ${negated.spec.help}` };
    // `--no-rescale` alone: a switch that is on unless turned off.
    if (negated) return { ...negated.spec, help: `on by default; off: ${negated.spec.help}` };
    return valued.spec;
  });
}

/**
 * Validates a job's options JSON and turns it into the edit's options (files and model filled in by the server).
 * Every problem is a 400 naming the option.
 */
export function parseJobOptions(json: unknown, files: { video: string; editedFrame: string; output: string; model: string }): {
  edit: EditOptions;
  /** The options as given, normalised (for display and persistence). */
  given: Record<string, unknown>;
} {
  if (json === undefined || json === null) json = {};
  if (typeof json !== 'object' || Array.isArray(json)) throw new HttpError(400, 'options must be a JSON object, e.g. {"steps": 25, "strength": 0.55}');
  const flags: Record<string, unknown> = { editedFrame: files.editedFrame, output: files.output, model: files.model, device: 'cpu', rescale: true, naiveInversion: false, force: false, quiet: true, json: false };
  const given: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(json as Record<string, unknown>)) {
    const key = rawKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (key === 'model') {
      if (value !== files.model) throw new HttpError(400, `option model: this server runs ${files.model} (start another server for ${String(value)})`);
      continue;
    }
    const known = CATALOGUE.get(key);
    if (!known) throw new HttpError(400, `unknown option "${rawKey}": the options are ${[...CATALOGUE.keys()].join(', ')}`);
    if (value === null || value === undefined || value === '') continue;
    const valued = known.find((k) => !k.option.negate);
    const negated = known.find((k) => k.option.negate);
    const attr = known[0].option.attributeName();
    if (value === false && negated) {
      flags[attr] = false;
    } else if (typeof value === 'boolean' && valued && valued.spec.type === 'boolean') {
      flags[attr] = value;
    } else if (value === true && negated && !valued) {
      flags[attr] = true;
    } else if (valued && (typeof value === 'number' || typeof value === 'string') && valued.spec.type !== 'boolean') {
      const text = String(value);
      const choices = valued.option.argChoices;
      if (choices && !choices.includes(text)) throw new HttpError(400, `option ${key}: must be one of ${choices.join(', ')}, got "${text}"`);
      try {
        flags[attr] = valued.option.parseArg ? valued.option.parseArg(text, undefined as never) : text;
      } catch (err) {
        throw new HttpError(400, `option ${(err as Error).message.replace(/^--/, '').replace(/\.$/, '')}`);
      }
    } else {
      throw new HttpError(400, `option ${key}: ${JSON.stringify(value)} is not a valid value (${known[0].spec.type})`);
    }
    given[key] = value;
  }
  try {
    return { edit: editOptionsFromFlags(files.video, flags as unknown as EditFlags), given };
  } catch (err) {
    throw new HttpError(400, `option ${(err as Error).message.replace(/^--/, '')}`);
  }
}
