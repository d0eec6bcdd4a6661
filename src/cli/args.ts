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
