/**
 * Argument parsers for the commands' own options (the edit's come from the schema): a bad value is one
 * VideoshopError line naming the flag, like every other refusal — never commander's two-line usage error.
 */
import { checkFieldValue, msg, option, parseTime, VideoshopError, type FieldSpec } from '../edit/index.js';

function bad(name: string, what: string, value: string): VideoshopError {
  return new VideoshopError('bad_option', msg`${option(name)} must be ${what}, got ${JSON.stringify(value)}`, { field: name, params: { value } });
}

export function intArg(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw bad(name, `an integer${min > -Infinity ? ` ≥ ${min}` : ''}${max < Infinity ? ` and ≤ ${max}` : ''}`, value);
    }
    return n;
  };
}

export function numberArg(name: string, min = -Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min) throw bad(name, `a number${min > -Infinity ? ` ≥ ${min}` : ''}`, value);
    return n;
  };
}

/** One of a few names. */
export function choiceArg<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw bad(name, `one of ${choices.join(', ')}`, value);
    return value as T;
  };
}

/** Seconds (`12.5`) or [h:]m:s (`1:02.5`). */
export function timeArg(name: string) {
  return (value: string): number => {
    const t = parseTime(value);
    if (t === undefined) throw bad(name, 'seconds (12.5) or [h:]m:s (1:02.5)', value);
    return t;
  };
}

/** A schema field's value from its text (`--size 1024x576`), checked by the schema. */
export function fieldArg(spec: FieldSpec) {
  return (value: string) => checkFieldValue(spec, value);
}

/** `--size WxH` for commands other than edit (each checks its own minimum: eval's SSIM window, the model's grid). */
export function sizeArg(value: string): { width: number; height: number } {
  const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw bad('size', 'a size WxH like 1024x576', value);
  return { width: Number(m[1]), height: Number(m[2]) };
}
