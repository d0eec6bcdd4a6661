import { ConfigError } from '../util/config.js';

/**
 * Errors a user can act on. The CLI prints their message as one line (no stack trace) and exits non-zero;
 * anything else is a bug and is printed with its stack.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}

/** Errors from config validation, bad options or bad input files are the user's to fix. */
export function isUserFacing(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  return err instanceof UserError || err instanceof ConfigError || err instanceof RangeError || 'userFacing' in err;
}
