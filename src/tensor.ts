/**
 * A dense float32 tensor in row-major order. Videos use the diffusers layout:
 * latents [batch, frames, channels, height, width]; images [channels, height, width].
 */
export interface Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function tensor(data: Float32Array, dims: readonly number[]): Tensor {
  if (data.length !== numel(dims)) {
    throw new Error(`tensor: ${data.length} values do not fill shape [${dims.join(', ')}]`);
  }
  return { data, dims: [...dims] };
}

export function zeros(dims: readonly number[]): Tensor {
  return { data: new Float32Array(numel(dims)), dims: [...dims] };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function assertShape(t: Tensor, dims: readonly number[], what: string): void {
  if (!sameShape(t.dims, dims)) {
    throw new Error(`${what}: expected shape [${dims.join(', ')}], got [${t.dims.join(', ')}]`);
  }
}

/** Concatenate tensors along `axis`; all other dims must agree. */
export function concat(parts: readonly Tensor[], axis: number): Tensor {
  if (parts.length === 0) throw new Error('concat: nothing to concatenate');
  const rank = parts[0].dims.length;
  const outer = numel(parts[0].dims.slice(0, axis));
  const inner = numel(parts[0].dims.slice(axis + 1));
  for (const p of parts) {
    if (p.dims.length !== rank || p.dims.some((d, i) => i !== axis && d !== parts[0].dims[i])) {
      throw new Error(`concat: shapes [${parts[0].dims}] and [${p.dims}] differ off axis ${axis}`);
    }
  }
  const axisTotal = parts.reduce((s, p) => s + p.dims[axis], 0);
  const dims = [...parts[0].dims];
  dims[axis] = axisTotal;
  const out = new Float32Array(numel(dims));
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const n = p.dims[axis] * inner;
      out.set(p.data.subarray(o * n, (o + 1) * n), offset);
      offset += n;
    }
  }
  return { data: out, dims };
}

/** Slice [start, end) along `axis`. */
export function slice(t: Tensor, axis: number, start: number, end: number): Tensor {
  const outer = numel(t.dims.slice(0, axis));
  const inner = numel(t.dims.slice(axis + 1));
  const len = end - start;
  if (start < 0 || end > t.dims[axis] || len < 0) {
    throw new Error(`slice: [${start}, ${end}) outside axis ${axis} of size ${t.dims[axis]}`);
  }
  const dims = [...t.dims];
  dims[axis] = len;
  const out = new Float32Array(numel(dims));
  for (let o = 0; o < outer; o++) {
    const src = (o * t.dims[axis] + start) * inner;
    out.set(t.data.subarray(src, src + len * inner), o * len * inner);
  }
  return { data: out, dims };
}

export function reshape(t: Tensor, dims: readonly number[]): Tensor {
  if (numel(dims) !== t.data.length) {
    throw new Error(`reshape: [${t.dims.join(', ')}] cannot become [${dims.join(', ')}]`);
  }
  return { data: t.data, dims: [...dims] };
}

/** ‖a − b‖/‖b‖ (Euclidean norms). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  return Math.sqrt(num / den);
}
