/** Small validators for config.json files: each failure names the file and the field. */
import { readFileSync } from 'node:fs';
import { VideoshopError } from './errors.js';

/** A damaged or foreign config.json: code `bad_config`, the message names the file and the field. */
export class ConfigError extends VideoshopError {
  override name = 'ConfigError';
  constructor(message: string) {
    super('bad_config', message);
  }
}

/**
 * Upper bounds on config values, far above any real model (SVD: 4 blocks, ≤ 1280 channels, 2 layers per block), so a
 * damaged or hostile config (layers_per_block: 1e9) is refused before the weight list or a graph is allocated.
 */
export function bounded(where: string, fields: Record<string, number | readonly number[]>, max: Record<string, number>): void {
  for (const [key, value] of Object.entries(fields)) {
    const limit = max[key];
    const values = typeof value === 'number' ? [value] : value;
    for (const v of values) {
      if (limit !== undefined && v > limit) {
        throw new ConfigError(`${where}: "${key}" is ${v}, more than ${limit}: the config is damaged (no SVD-like model is that large)`);
      }
    }
  }
}

export type Json = Record<string, unknown>;

export function asObject(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${where}: expected a JSON object`);
  }
  return value as Json;
}

export function num(obj: Json, key: string, where: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(`${where}: "${key}" must be a number, got ${JSON.stringify(obj[key])}`);
  }
  return v;
}

export function int(obj: Json, key: string, where: string, fallback?: number): number {
  const v = num(obj, key, where, fallback);
  if (!Number.isInteger(v)) throw new ConfigError(`${where}: "${key}" must be an integer, got ${v}`);
  return v;
}

export function optNum(obj: Json, key: string, where: string): number | undefined {
  return obj[key] === undefined || obj[key] === null ? undefined : num(obj, key, where);
}

export function bool(obj: Json, key: string, where: string, fallback?: boolean): boolean {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${where}: "${key}" must be true or false, got ${JSON.stringify(obj[key])}`);
  return v;
}

export function str<T extends string>(obj: Json, key: string, where: string, allowed: readonly T[], fallback?: T): T {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${where}: "${key}" must be one of ${allowed.join(', ')}; got ${JSON.stringify(obj[key])}`);
  }
  return v as T;
}

export function string(obj: Json, key: string, where: string, fallback?: string): string {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'string') throw new ConfigError(`${where}: "${key}" must be a string, got ${JSON.stringify(obj[key])}`);
  return v;
}

export function ints(obj: Json, key: string, where: string, fallback?: number[]): number[] {
  const v = obj[key] ?? fallback;
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) {
    throw new ConfigError(`${where}: "${key}" must be a list of integers, got ${JSON.stringify(obj[key])}`);
  }
  return v as number[];
}

/** An int or a list of ints, broadcast to `length` entries (diffusers allows both for many fields). */
export function intOrInts(obj: Json, key: string, where: string, length: number, fallback?: number | number[]): number[] {
  const v = obj[key] ?? fallback;
  if (Number.isInteger(v)) return Array.from({ length }, () => v as number);
  const list = ints({ [key]: v }, key, where);
  if (list.length !== length) throw new ConfigError(`${where}: "${key}" must have ${length} entries, got ${list.length}`);
  return list;
}

export function strings(obj: Json, key: string, where: string, fallback?: string[]): string[] {
  const v = obj[key] ?? fallback;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new ConfigError(`${where}: "${key}" must be a list of strings, got ${JSON.stringify(obj[key])}`);
  }
  return v as string[];
}

/** Reads and parses a JSON config file; unreadable or malformed files become one ConfigError line. */
export function readJsonConfig(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file} is not JSON: ${(e as Error).message}`);
  }
}
