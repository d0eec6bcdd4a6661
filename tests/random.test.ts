/** The seeded generator: PCG32 against the published reference sequence, reproducibility, statistics. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Random } from '../src/random.js';

/** pcg32 (XSH-RR, 64-bit LCG) straight from its definition, in BigInt: the reference for `Random.next32`. */
class ReferencePcg32 {
  private static readonly MASK = (1n << 64n) - 1n;
  private static readonly MULTIPLIER = 6364136223846793005n;

  constructor(private state: bigint, private readonly inc: bigint) {}

  /** pcg32_srandom_r(initstate, initseq) of the reference C library. */
  static seeded(initState: bigint, initSeq: bigint): ReferencePcg32 {
    const rng = new ReferencePcg32(0n, ((initSeq << 1n) | 1n) & ReferencePcg32.MASK);
    rng.next32();
    rng.state = (rng.state + initState) & ReferencePcg32.MASK;
    rng.next32();
    return rng;
  }

  next32(): number {
    const old = this.state;
    this.state = (old * ReferencePcg32.MULTIPLIER + this.inc) & ReferencePcg32.MASK;
    const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rot = Number(old >> 59n);
    return ((xorshifted >>> rot) | (xorshifted << (-rot & 31))) >>> 0;
  }
}

/** Random's seeding, as src/random.ts documents it: seed XOR constants as the state, default increment, two warm-up draws. */
function referenceFor(seed: number): ReferencePcg32 {
  const hi = BigInt((Math.floor(seed / 0x100000000) ^ 0x853c49e6) >>> 0);
  const lo = BigInt((seed ^ 0x748fea9b) >>> 0);
  const rng = new ReferencePcg32((hi << 32n) | lo, 1442695040888963407n);
  rng.next32();
  rng.next32();
  return rng;
}

describe('PCG32', () => {
  test('the BigInt reference reproduces the published pcg32 demo sequence (seed 42, stream 54)', () => {
    const rng = ReferencePcg32.seeded(42n, 54n);
    const got = Array.from({ length: 6 }, () => rng.next32());
    assert.deepEqual(got, [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e]);
  });

  test('Random.next32 is bit-exact pcg32 for small, large and 2^32-crossing seeds', () => {
    for (const seed of [0, 1, 2, 42, 12345, 0xffffffff, 0x100000000, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
      const ours = new Random(seed);
      const ref = referenceFor(seed);
      for (let i = 0; i < 1000; i++) assert.equal(ours.next32(), ref.next32(), `seed ${seed}, draw ${i}`);
    }
  });
});

describe('Random', () => {
  test('the same seed gives a bit-identical sequence', () => {
    const a = new Random(2024).normals(10000);
    const b = new Random(2024).normals(10000);
    assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer));
    const u = new Random(9);
    const v = new Random(9);
    for (let i = 0; i < 1000; i++) assert.equal(u.uniform(), v.uniform());
  });

  test('different seeds differ from the first draw on, including neighbours', () => {
    for (const [s, t] of [[0, 1], [1, 2], [41, 42], [0x100000000, 0]]) {
      const a = new Random(s).normals(1000);
      const b = new Random(t).normals(1000);
      assert.notEqual(a[0], b[0], `seeds ${s}, ${t}: first draw`);
      let same = 0;
      for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
      assert.equal(same, 0, `seeds ${s}, ${t}`);
    }
  });

  test('uniform() lies in [0, 1) with mean ½ and variance 1/12', () => {
    const rng = new Random(3);
    const n = 200000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      assert.ok(u >= 0 && u < 1, `uniform() gave ${u}`);
      sum += u;
      sumSq += u * u;
    }
    const mean = sum / n;
    assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(sumSq / n - mean * mean - 1 / 12) < 0.002, 'variance');
  });

  test('normals(200000): mean ≈ 0, variance ≈ 1, symmetric tails, no NaN', () => {
    const x = new Random(11).normals(200000);
    let sum = 0;
    let sumSq = 0;
    let beyond2 = 0;
    let negative = 0;
    for (const v of x) {
      assert.ok(Number.isFinite(v), `normal gave ${v}`);
      sum += v;
      sumSq += v * v;
      if (Math.abs(v) > 2) beyond2++;
      if (v < 0) negative++;
    }
    const mean = sum / x.length;
    const variance = sumSq / x.length - mean * mean;
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.01, `variance ${variance}`);
    // P(|z| > 2) = 0.0455; binomial sd over 200000 draws ≈ 0.00047.
    assert.ok(Math.abs(beyond2 / x.length - 0.0455) < 0.003, `tail fraction ${beyond2 / x.length}`);
    assert.ok(Math.abs(negative / x.length - 0.5) < 0.005, `negative fraction ${negative / x.length}`);
  });

  test('consecutive normals are uncorrelated (both Box–Muller outputs are used)', () => {
    const x = new Random(5).normals(100000);
    let lag1 = 0;
    for (let i = 1; i < x.length; i++) lag1 += x[i] * x[i - 1];
    assert.ok(Math.abs(lag1 / (x.length - 1)) < 0.015, `lag-1 correlation ${lag1 / (x.length - 1)}`);
  });

  test('negative, fractional, unsafe and non-finite seeds are refused', () => {
    for (const seed of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
      assert.throws(() => new Random(seed), /random seed must be a non-negative integer/, `seed ${seed}`);
    }
  });
});
