/** Rendered clips as the pipeline's tensors: frames [F, 3, H, W] in [-1, 1], masks [F, 1, H, W] in [0, 1]. */
import { tensor, type Tensor } from '../tensor.js';
import type { RenderedClip } from './types.js';

export function clipToTensor(clip: RenderedClip, start = 0, end = clip.frames): Tensor {
  const { width: w, height: h } = clip;
  const n = end - start;
  const out = new Float32Array(n * 3 * h * w);
  for (let f = 0; f < n; f++) {
    for (let i = 0; i < h * w; i++) {
      for (let c = 0; c < 3; c++) out[((f * 3 + c) * h * w) + i] = clip.rgb[((f + start) * h * w + i) * 3 + c] / 127.5 - 1;
    }
  }
  return tensor(out, [n, 3, h, w]);
}

export function maskToTensor(mask: Uint8Array, clip: RenderedClip): Tensor {
  return tensor(Float32Array.from(mask, (v) => v / 255), [clip.frames, 1, clip.height, clip.width]);
}

/** Where an edit changes anything: union of the object's masks in the source and the edited clip (binary). */
export function editedRegion(source: RenderedClip, edited: RenderedClip, id: number): Tensor {
  const a = source.masks.get(id), b = edited.masks.get(id);
  const n = source.frames * source.height * source.width;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((a?.[i] ?? 0) > 0 || (b?.[i] ?? 0) > 0) ? 1 : 0;
  return tensor(out, [source.frames, 1, source.height, source.width]);
}
