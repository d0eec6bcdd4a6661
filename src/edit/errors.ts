/**
 * What an edit throws: always a VideoshopError for anything the user can act on (src/util/errors.ts). Failures that
 * reach here in other forms — ONNX Runtime's allocation failures, the signal's abort — become one with a code.
 */
import { isVideoshopError, msg, option, VideoshopError } from '../util/errors.js';

export { isVideoshopError, VideoshopError } from '../util/errors.js';

const OUT_OF_MEMORY = /bad_alloc|bad allocation|Failed to allocate|out of memory|ENOMEM|Cannot allocate memory|Available memory of \d+ is smaller than requested/i;

/** An error from an edit, in the one form every surface words: out of memory and interruption get their codes. */
export function explainFailure(err: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) {
    if (isVideoshopError(err) && err.code === 'interrupted') return err;
    return new VideoshopError('interrupted', 'the edit was stopped: no output was written', { cause: err });
  }
  if (isVideoshopError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (OUT_OF_MEMORY.test(message)) {
    return new VideoshopError('out_of_memory',
      msg`out of memory: try a smaller ${option('size')}, fewer ${option('block-frames')}, or a GPU (${option('device', 'cuda')})`, { cause: err });
  }
  return err;
}
