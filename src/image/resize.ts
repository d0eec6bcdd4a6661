/**
 * Antialiased bilinear resampling exactly as torch's interpolate(mode='bilinear', antialias=True, align_corners=False)
 * (what torchvision's Resize(BILINEAR, antialias=True) runs on tensors, as the Videoshop reference does on frames and on
 * the CLIP input). Shared by video reading (the 'reference' resampler), image fitting and CLIP preprocessing.
 */
import { type Tensor, tensor } from '../tensor.js';

/** For each output index: the first input index it reads, and its normalized weights (one row of `taps` entries). */
interface AxisFilter {
  start: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Float32Array;
}

/**
 * The 1-D filter of torch's antialiased bilinear resampling (a PIL-style triangle filter). When shrinking, the triangle is
 * widened by the scale so every input pixel contributes (that is the antialiasing); when enlarging it is plain linear
 * interpolation between pixel centres, clamped at the borders by renormalizing the weights.
 */
function triangleFilter(inSize: number, outSize: number): AxisFilter {
  // float32 arithmetic in torch's order (Math.fround), so the weights agree with torch's to the last bit or two.
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const support = scale >= 1 ? scale : 1; // triangle half-width (bilinear: interp size 2 → 1 pixel) in input pixels
  const invScale = scale >= 1 ? f(1 / scale) : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const center = f(scale * (i + 0.5));
    // torch truncates toward zero here (static_cast<int64_t>), then clamps to the image.
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = hi - lo;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const x = f(Math.abs(f(j + lo - center) + 0.5) * invScale);
      const w = x < 1 ? f(1 - x) : 0;
      weights[i * taps + j] = w;
      total = f(total + w);
    }
    if (total !== 0) for (let j = 0; j < n; j++) weights[i * taps + j] = f(weights[i * taps + j] / total);
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, taps, weights };
}

/**
 * Antialiased bilinear resize of planar images [channels, inH, inW] → [channels, outH, outW], matching torch's
 * interpolate(mode='bilinear', antialias=True, align_corners=False). Separable: width first, then height.
 */
export function resizeBilinearAntialias(src: Float32Array, channels: number, inH: number, inW: number,
  outH: number, outW: number): Float32Array {
  if (src.length !== channels * inH * inW) {
    throw new Error(`resizeBilinearAntialias: ${src.length} values do not fill [${channels}, ${inH}, ${inW}]`);
  }
  if (![inH, inW, outH, outW].every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`resizeBilinearAntialias: bad sizes ${inH}×${inW} → ${outH}×${outW}`);
  }
  const fx = triangleFilter(inW, outW);
  const fy = triangleFilter(inH, outH);
  const rows = new Float64Array(channels * inH * outW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < inH; y++) {
      const inRow = (c * inH + y) * inW;
      const outRow = (c * inH + y) * outW;
      for (let x = 0; x < outW; x++) {
        const s = inRow + fx.start[x];
        const w = x * fx.taps;
        let acc = 0;
        for (let j = 0; j < fx.count[x]; j++) acc += fx.weights[w + j] * src[s + j];
        rows[outRow + x] = acc;
      }
    }
  }
  const out = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < outH; y++) {
      const w = y * fy.taps;
      const outRow = (c * outH + y) * outW;
      for (let j = 0; j < fy.count[y]; j++) {
        const weight = fy.weights[w + j];
        const inRow = (c * inH + fy.start[y] + j) * outW;
        for (let x = 0; x < outW; x++) out[outRow + x] += weight * rows[inRow + x];
      }
    }
  }
  return out;
}

/** Resize a planar image Tensor [channels, H, W] to [channels, outHeight, outWidth]. */
export function resizeImage(image: Tensor, outWidth: number, outHeight: number): Tensor {
  if (image.dims.length !== 3) throw new Error(`resizeImage: expected [channels, H, W], got [${image.dims.join(', ')}]`);
  const [channels, h, w] = image.dims;
  if (h === outHeight && w === outWidth) return tensor(image.data.slice(), image.dims);
  return tensor(resizeBilinearAntialias(image.data, channels, h, w, outHeight, outWidth), [channels, outHeight, outWidth]);
}
