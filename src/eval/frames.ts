/**
 * Shared shapes for the evaluation metrics. Frames are the pipeline's planar RGB [3,H,W] with values in [-1, 1];
 * masks are [H,W] (or [1,H,W]) with values in [0, 1], where a value ≥ 0.5 marks the edited region.
 */
import type { Tensor } from '../tensor.js';

/** A mask value at or above this marks a pixel as inside the edited region. */
export const MASK_THRESHOLD = 0.5;

export { frameSize, type FrameSize } from '../image/frame-size.js';
import { frameSize, type FrameSize } from '../image/frame-size.js';

/** Checks that two frames have the same [C,H,W] shape and returns it. */
export function sameFrameSize(a: Tensor, b: Tensor, what: string): FrameSize {
  const sa = frameSize(a, `${what} (first)`);
  const sb = frameSize(b, `${what} (second)`);
  if (sa.channels !== sb.channels || sa.height !== sb.height || sa.width !== sb.width) {
    throw new Error(`${what}: shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] differ`);
  }
  return sa;
}

/** Checks two equally long, non-empty frame lists. */
export function assertPairedVideos(a: readonly Tensor[], b: readonly Tensor[], what: string): void {
  if (a.length === 0) throw new Error(`${what}: no frames`);
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} frames vs ${b.length} frames`);
}

/** The mask's [H,W] plane, checked against the frame size. */
export function maskPlane(mask: Tensor, height: number, width: number, what = 'mask'): Float32Array {
  const dims = mask.dims.length === 3 && mask.dims[0] === 1 ? mask.dims.slice(1) : mask.dims;
  if (dims.length !== 2 || dims[0] !== height || dims[1] !== width) {
    throw new Error(`${what}: expected [${height}, ${width}] (or [1, ${height}, ${width}]), got [${mask.dims.join(', ')}]`);
  }
  return mask.data;
}

/** A mask from an image frame [C,H,W] in [-1, 1] (white = edited): the channel mean mapped to [0, 1]. */
export function maskFromFrame(frame: Tensor): Tensor {
  const { channels, height, width } = frameSize(frame, 'mask image');
  const plane = height * width;
  const out = new Float32Array(plane);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane; i++) out[i] += frame.data[c * plane + i];
  }
  for (let i = 0; i < plane; i++) out[i] = Math.min(1, Math.max(0, (out[i] / channels + 1) / 2));
  return { data: out, dims: [height, width] };
}

/** The mean of a list of numbers (NaN for an empty list; +Infinity if any is +Infinity). */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
