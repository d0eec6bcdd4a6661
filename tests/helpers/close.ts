/** Comparing number arrays against an oracle's: the largest error relative to the largest expected magnitude. */
import assert from 'node:assert/strict';

export function relError(actual: ArrayLike<number>, expected: readonly number[]): number {
  assert.equal(actual.length, expected.length, 'length');
  let scale = 0;
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
  }
  return scale === 0 ? err : err / scale;
}

export function assertClose(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  const err = relError(actual, expected);
  assert.ok(err <= tol, `${what}: relative error ${err.toExponential(2)} > ${tol}`);
}
