import { ConfigError } from '../util/config.js';

/**
 * Errors a user can act on. The CLI prints their message as one line (no stack trace) and exits non-zero;
 * anything else is a bug and is printed with its stack.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2, readonly code?: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Errors from config validation, bad options or bad input files are the user's to fix. */
export function isUserFacing(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  return err instanceof UserError || err instanceof ConfigError || err instanceof RangeError || 'userFacing' in err;
}

/**
 * The stable `error.code` of `--json` output, for scripts: an error's own snake_case `code` when it has one
 * (e.g. device_unavailable), else one per kind of error. Node's errno codes (ENOENT…) are not ours to promise.
 */
export function errorCode(err: unknown): string {
  if (!(err instanceof Error)) return 'internal';
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string' && own.startsWith('commander.')) return 'usage';
  // Our error classes' own codes (output-exists, verify-failed, HUB_STALLED…), in one spelling; the generic
  // defaults of VideoError/EditError are plain bad input.
  if (typeof own === 'string' && isUserFacing(err) && /^[A-Za-z][A-Za-z0-9_-]*$/.test(own)) {
    const code = own.toLowerCase().replace(/-/g, '_');
    return code === 'video' ? 'bad_input' : code;
  }
  const kind = (err as { kind?: unknown }).kind;
  switch (err.name) {
    case 'UserError': return (err as UserError).exitCode === 130 ? 'interrupted' : 'bad_input';
    case 'HubError': return `hub_${String(kind).replace(/-/g, '_')}`;
    case 'ModelRepositoryError': case 'ConfigError': return 'bad_model';
    case 'VideoError': case 'EditError': case 'EvalError': return 'bad_input';
    case 'RangeError': return 'bad_option';
    default: return isUserFacing(err) ? 'bad_input' : 'internal';
  }
}
