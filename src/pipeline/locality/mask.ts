/**
 * Masks of one frame and their morphology: a plane of values in [0, 1] (1: the edit's), row-major. Binary masks hold
 * exactly 0 and 1; soft ones (a feathered alpha) anything between. Pure functions; every size is in this mask's pixels.
 */

export interface Mask {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

export function emptyMask(width: number, height: number): Mask {
  return { data: new Float32Array(width * height), width, height };
}

/** 1 where `values` ≥ `threshold`, else 0. */
export function binaryMask(values: Float32Array, width: number, height: number, threshold: number): Mask {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = values[i] >= threshold ? 1 : 0;
  return { data, width, height };
}

/** Share of the frame at or above one half. */
export function coverage(m: Mask): number {
  let n = 0;
  for (let i = 0; i < m.data.length; i++) if (m.data[i] >= 0.5) n++;
  return n / m.data.length;
}

export function isEmpty(m: Mask): boolean {
  for (let i = 0; i < m.data.length; i++) if (m.data[i] > 0) return false;
  return true;
}

export function unionMask(a: Mask, b: Mask): Mask {
  sameSize(a, b);
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(a.data[i], b.data[i]);
  return { data, width: a.width, height: a.height };
}

export function intersectMask(a: Mask, b: Mask): Mask {
  sameSize(a, b);
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(a.data[i], b.data[i]);
  return { data, width: a.width, height: a.height };
}

/** `a` where `b` is off: what the user marked as unedited taken out of a region. */
export function subtractMask(a: Mask, b: Mask): Mask {
  sameSize(a, b);
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(a.data[i], 1 - b.data[i]);
  return { data, width: a.width, height: a.height };
}

/** Max (dilate) or min (erode) over a (2r+1)² square, separably; the frame's outside does not count. */
function squareFilter(m: Mask, r: number, pick: (a: number, b: number) => number): Mask {
  if (r <= 0) return m;
  const { width: w, height: h } = m;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = m.data[y * w + x];
      for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r); k++) v = pick(v, m.data[y * w + k]);
      tmp[y * w + x] = v;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = tmp[y * w + x];
      for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r); k++) v = pick(v, tmp[k * w + x]);
      out[y * w + x] = v;
    }
  }
  return { data: out, width: w, height: h };
}

export function dilate(m: Mask, r: number): Mask {
  return squareFilter(m, Math.round(r), Math.max);
}

export function erode(m: Mask, r: number): Mask {
  return squareFilter(m, Math.round(r), Math.min);
}

/** 4-connected components of a binary mask (values ≥ 0.5), as lists of pixel indices. */
export function components(mask: Mask): number[][] {
  const { width: w, height: h } = mask;
  const seen = new Uint8Array(w * h);
  const out: number[][] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || mask.data[start] < 0.5) continue;
    const region: number[] = [];
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      region.push(i);
      const x = i % w;
      for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, i - w, i + w]) {
        if (j >= 0 && j < w * h && !seen[j] && mask.data[j] >= 0.5) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    out.push(region);
  }
  return out;
}

/**
 * Drops 4-connected regions (of values ≥ 0.5) smaller than `minArea` pixels: isolated specks of a difference are
 * noise (compression, a flicker), an edit is an area.
 */
export function removeSmallRegions(m: Mask, minArea: number): Mask {
  if (minArea <= 1) return m;
  const out = new Float32Array(m.data);
  for (const region of components(m)) if (region.length < minArea) for (const i of region) out[i] = 0;
  return { data: out, width: m.width, height: m.height };
}

/** Mean over a (2r+1)² box (separable, running sums), the outside counting as 0: exact zeros stay exactly zero. */
export function boxBlurMask(m: Mask, r: number): Mask {
  r = Math.round(r);
  if (r <= 0) return m;
  const { width: w, height: h } = m;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  const inv = 1 / (2 * r + 1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r); k++) s += m.data[row + k];
      tmp[row + x] = s * inv;
    }
  }
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      let s = 0;
      for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r); k++) s += tmp[k * w + x];
      out[y * w + x] = s * inv;
    }
  }
  // Sums of non-negative values: a pixel whose window held only zeros is exactly 0; clear float dust elsewhere.
  for (let i = 0; i < out.length; i++) if (out[i] < 1e-6) out[i] = 0;
  return { data: out, width: w, height: h };
}

/** Bilinear resize with half-pixel centres (zeros stay exactly zero). */
export function resizeMask(m: Mask, width: number, height: number): Mask {
  if (width === m.width && height === m.height) return m;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(Math.max((y + 0.5) * (m.height / height) - 0.5, 0), m.height - 1);
    const y0 = Math.floor(sy), y1 = Math.min(y0 + 1, m.height - 1), fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(Math.max((x + 0.5) * (m.width / width) - 0.5, 0), m.width - 1);
      const x0 = Math.floor(sx), x1 = Math.min(x0 + 1, m.width - 1), fx = sx - x0;
      const top = m.data[y0 * m.width + x0] * (1 - fx) + m.data[y0 * m.width + x1] * fx;
      const bottom = m.data[y1 * m.width + x0] * (1 - fx) + m.data[y1 * m.width + x1] * fx;
      out[y * width + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return { data: out, width, height };
}

/** Intersection over union of the two masks' pixels ≥ 0.5 (1 when both are empty). */
export function maskIoU(a: Mask, b: Mask): number {
  sameSize(a, b);
  let inter = 0, uni = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i] >= 0.5, y = b.data[i] >= 0.5;
    if (x && y) inter++;
    if (x || y) uni++;
  }
  return uni === 0 ? 1 : inter / uni;
}

function sameSize(a: Mask, b: Mask): void {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`masks of ${a.width}×${a.height} and ${b.width}×${b.height} differ in size`);
}
