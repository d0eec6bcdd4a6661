/**
 * Compositing at the source's resolution: outside the edit the output frame *is* the decoded source frame (the same
 * values, not a resized copy), inside it the model's frame scaled up to the source's size, across a feathered seam.
 */
import { tensor, type Tensor } from '../../tensor.js';
import { boxBlurMask, dilate, type Mask } from './mask.js';

/**
 * The blend weight of the model's frame: 1 on `mask`, then a ramp down to exactly 0 over the next 2·radius pixels
 * (a box blur of the mask grown by `radius`: no pixel beyond the ramp is touched); `centred`: the ramp runs from
 * `radius` inside the mask's edge to `radius` outside it.
 */
export function featherAlpha(mask: Mask, radius: number, seam: 'outside' | 'centred' = 'outside'): Mask {
  const r = Math.max(1, Math.round(radius));
  return boxBlurMask(seam === 'outside' ? dilate(mask, r) : mask, r);
}

/**
 * source [3,H,W] at the source's size, generated [3,h,w] at the processing size, alpha at any size (it is scaled
 * to the source's, bilinearly, half-pixel centres, like `generated`): source·(1 − α) + generated·α. Where α is 0 the
 * source's values are copied as they are; the work is done only inside the box where α > 0.
 */
export function compositeFrame(source: Tensor, generated: Tensor, alpha: Mask): Tensor {
  const [c, H, W] = source.dims;
  const [gc, gh, gw] = generated.dims;
  if (c !== 3 || gc !== 3) throw new Error('compositeFrame: frames must be [3,H,W]');
  const out = new Float32Array(source.data);
  const box = alphaBox(alpha);
  if (!box) return tensor(out, source.dims);
  const plane = H * W, gPlane = gh * gw;
  // The alpha box in source pixels, one pixel of margin for the bilinear footprint.
  const ax = W / alpha.width, ay = H / alpha.height;
  const x0 = Math.max(0, Math.floor((box.x0 - 1) * ax)), x1 = Math.min(W, Math.ceil((box.x1 + 2) * ax));
  const y0 = Math.max(0, Math.floor((box.y0 - 1) * ay)), y1 = Math.min(H, Math.ceil((box.y1 + 2) * ay));
  const ga = taps(gw, W, x0, x1), gb = taps(gh, H, y0, y1);
  const aa = taps(alpha.width, W, x0, x1), ab = taps(alpha.height, H, y0, y1);
  for (let y = y0; y < y1; y++) {
    const j = y - y0;
    for (let x = x0; x < x1; x++) {
      const i = x - x0;
      const a = bilinear(alpha.data, alpha.width, 0, aa, ab, i, j);
      if (a <= 0) continue;
      const p = y * W + x;
      for (let ch = 0; ch < 3; ch++) {
        const g = bilinear(generated.data, gw, ch * gPlane, ga, gb, i, j);
        out[ch * plane + p] = a >= 1 ? g : source.data[ch * plane + p] * (1 - a) + g * a;
      }
    }
  }
  return tensor(out, source.dims);
}

/** Bounding box (inclusive) of α > 0, or undefined when α is 0 everywhere. */
function alphaBox(m: Mask): { x0: number; y0: number; x1: number; y1: number } | undefined {
  let x0 = m.width, y0 = m.height, x1 = -1, y1 = -1;
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      if (m.data[y * m.width + x] > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1, y1 };
}

interface Taps { i0: Int32Array; i1: Int32Array; f: Float32Array }

/** For output pixels from..to of an axis of `outSize`, the two input pixels (of `inSize`) and the weight of the second. */
function taps(inSize: number, outSize: number, from: number, to: number): Taps {
  const n = to - from;
  const i0 = new Int32Array(n), i1 = new Int32Array(n), f = new Float32Array(n);
  const scale = inSize / outSize;
  for (let k = 0; k < n; k++) {
    const s = Math.min(Math.max((from + k + 0.5) * scale - 0.5, 0), inSize - 1);
    i0[k] = Math.floor(s);
    i1[k] = Math.min(i0[k] + 1, inSize - 1);
    f[k] = s - i0[k];
  }
  return { i0, i1, f };
}

function bilinear(data: Float32Array, width: number, offset: number, xs: Taps, ys: Taps, i: number, j: number): number {
  const r0 = offset + ys.i0[j] * width, r1 = offset + ys.i1[j] * width;
  const fx = xs.f[i], fy = ys.f[j];
  const top = data[r0 + xs.i0[i]] * (1 - fx) + data[r0 + xs.i1[i]] * fx;
  const bottom = data[r1 + xs.i0[i]] * (1 - fx) + data[r1 + xs.i1[i]] * fx;
  return top * (1 - fy) + bottom * fy;
}
