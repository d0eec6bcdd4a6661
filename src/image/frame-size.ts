/** The shape of a planar frame [C,H,W], checked. */
import type { Tensor } from '../tensor.js';

export interface FrameSize {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** Checks a [C,H,W] frame and returns its size. */
export function frameSize(frame: Tensor, what = 'frame'): FrameSize {
  if (frame.dims.length !== 3) throw new Error(`${what}: expected [C,H,W], got [${frame.dims.join(', ')}]`);
  const [channels, height, width] = frame.dims;
  if (frame.data.length !== channels * height * width) throw new Error(`${what}: data does not fill its shape`);
  return { channels, height, width };
}
