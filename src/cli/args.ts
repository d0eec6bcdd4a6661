/** Argument parsers shared by the commands: they reject what is not a number with commander's usage error. */
import { InvalidArgumentError } from 'commander';

export function parseIntArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer.`);
    return n;
  };
}

export function parseNumberArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number.`);
    return n;
  };
}

/** `--size 1024x576` (or 1024×576). */
export function parseSizeArg(value: string): { width: number; height: number } {
  const m = /^(\d+)[x×](\d+)$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError(`--size must look like 1024x576, got "${value}".`);
  return { width: Number(m[1]), height: Number(m[2]) };
}
