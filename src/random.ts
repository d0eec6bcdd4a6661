/**
 * Seeded random numbers. Every random draw in Videoshop comes from here (or from tensors the
 * caller passes in), so a seed reproduces a result bit for bit on the same machine.
 *
 * The generator is PCG32 (XSH-RR, 64-bit state, BigInt-free: the state is two 32-bit halves);
 * normals use the Box–Muller transform on 53-bit uniforms.
 */
export class Random {
  private hi: number;
  private lo: number;
  private spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`random seed must be a non-negative integer, got ${seed}`);
    }
    // The seed, XORed with fixed constants, is the 64-bit LCG state; two warm-up steps let the multiplier
    // spread nearby seeds' differences into the high bits the output reads.
    this.hi = (Math.floor(seed / 0x100000000) ^ 0x853c49e6) >>> 0;
    this.lo = (seed ^ 0x748fea9b) >>> 0;
    this.next32();
    this.next32();
  }

  /** Next uniform 32-bit unsigned integer. */
  next32(): number {
    const oldHi = this.hi;
    const oldLo = this.lo;
    // state = state * 6364136223846793005 + 1442695040888963407 (mod 2^64), in 16-bit limbs.
    const [hi, lo] = mul64add(oldHi, oldLo, 0x5851f42d, 0x4c957f2d, 0x14057b7e, 0xf767814f);
    this.hi = hi;
    this.lo = lo;
    // XSH-RR output from the old state: x = uint32(((old >>> 18) ^ old) >>> 27), rotated right by old >>> 59.
    // Bits 27–58 of (old >>> 18) ^ old: the high half gives bits 32–58, the low half's top 5 bits give 27–31.
    const mixedHi = (oldHi >>> 18) ^ oldHi;
    const mixedLoTop = ((oldHi << 14) ^ oldLo) >>> 27;
    const x = ((mixedHi << 5) | mixedLoTop) >>> 0;
    const rot = oldHi >>> 27;
    return ((x >>> rot) | (x << ((32 - rot) & 31))) >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.next32() >>> 5;
    const b = this.next32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal N(0, 1). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A float32 array of n standard normals. */
  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
}

/** (hi,lo) * (mh,ml) + (ah,al) mod 2^64 on 32-bit halves, exact in doubles via 16-bit limbs. */
function mul64add(hi: number, lo: number, mh: number, ml: number, ah: number, al: number): [number, number] {
  const a0 = lo & 0xffff, a1 = lo >>> 16, a2 = hi & 0xffff, a3 = hi >>> 16;
  const b0 = ml & 0xffff, b1 = ml >>> 16, b2 = mh & 0xffff, b3 = mh >>> 16;
  let c0 = a0 * b0 + (al & 0xffff);
  let c1 = (c0 >>> 16) + a0 * b1 + a1 * b0 + (al >>> 16);
  c0 &= 0xffff;
  let c2 = Math.floor(c1 / 65536) + a0 * b2 + a1 * b1 + a2 * b0 + (ah & 0xffff);
  c1 &= 0xffff;
  const c3 = Math.floor(c2 / 65536) + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0 + (ah >>> 16);
  c2 &= 0xffff;
  return [((c3 & 0xffff) * 65536 + c2) >>> 0, (c1 * 65536 + c0) >>> 0];
}
