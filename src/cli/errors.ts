/**
 * How the CLI reports a failure: a VideoshopError as one line in its own words (options named as flags: `--size`,
 * `--fit crop`), with its stable code under --json; anything else is a bug, printed with its stack.
 */
import { cliNaming, isVideoshopError, VideoshopError } from '../edit/index.js';

export { VideoshopError, isVideoshopError };

/** The line a user reads. */
export function cliMessage(err: VideoshopError): string {
  return err.render(cliNaming);
}

/** 2 for every refusal; an interruption's own (128 + the signal's number). */
export function exitCodeOf(err: VideoshopError): number {
  const code = err.params.exitCode;
  return typeof code === 'number' ? code : 2;
}
