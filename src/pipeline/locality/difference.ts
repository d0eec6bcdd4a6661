/**
 * How different two frames are, pixel by pixel, in colour: the Euclidean distance of their RGB values (8-bit levels),
 * after a small Gaussian blur of the difference. Colour, not brightness: a recolour that keeps the brightness (a red
 * box made green of the same luma) is an edit. The blur makes it robust to what converting the same frame twice
 * does (chroma subsampling and JPEG move single pixels at sharp colour edges by tens of levels, an area by < 1).
 */
import { gaussianBlur } from '../../image/image-ops.js';
import type { Tensor } from '../../tensor.js';

/** Distance per pixel [H·W], in 8-bit levels (0 … 441), of two [3,H,W] frames in [-1, 1]. */
export function colourDistance(a: Tensor, b: Tensor, blurSigma: number): Float32Array {
  const [c, h, w] = a.dims;
  if (c !== 3 || b.dims[0] !== 3 || b.dims[1] !== h || b.dims[2] !== w) {
    throw new Error(`colourDistance: frames [${a.dims.join(', ')}] and [${b.dims.join(', ')}] must both be [3,H,W]`);
  }
  const plane = h * w;
  const out = new Float32Array(plane);
  for (let ch = 0; ch < 3; ch++) {
    let d: Float32Array = new Float32Array(plane);
    for (let i = 0; i < plane; i++) d[i] = (a.data[ch * plane + i] - b.data[ch * plane + i]) * 127.5;
    if (blurSigma > 0) {
      const size = Math.max(3, Math.round(blurSigma * 3) * 2 + 1);
      d = gaussianBlur({ data: d, dims: [h, w] }, size, blurSigma).data;
    }
    for (let i = 0; i < plane; i++) out[i] += d[i] * d[i];
  }
  for (let i = 0; i < plane; i++) out[i] = Math.sqrt(out[i]);
  return out;
}
