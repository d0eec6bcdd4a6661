/**
 * SVD's CLIP preprocessing (the reference's `image1` transform): resize the whole frame, no crop, to size×size with
 * torchvision's Resize(BILINEAR, antialias=True) — i.e. torch's interpolate(mode='bilinear', antialias=True,
 * align_corners=False) — on [0, 1] pixels, then Normalize with CLIP's mean and std.
 */
import { type Tensor, tensor } from '../../tensor.js';
import { resizeBilinearAntialias } from '../../image/resize.js';

export { resizeBilinearAntialias };

export const CLIP_MEAN: readonly number[] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly number[] = [0.26862954, 0.26130258, 0.27577711];

/**
 * Image [3, H, W] with values in [-1, 1] (the pipeline's convention) → CLIP pixel values [3, size, size]:
 * back to [0, 1] as the reference's pixels are, resized (whole frame, aspect ratio not kept), normalized.
 */
export function clipPreprocess(image: Tensor, size: number, mean: readonly number[] = CLIP_MEAN,
  std: readonly number[] = CLIP_STD): Tensor {
  if (image.dims.length !== 3 || image.dims[0] !== mean.length) {
    throw new Error(`clipPreprocess: expected an image [${mean.length}, H, W], got [${image.dims.join(', ')}]`);
  }
  const [channels, h, w] = image.dims;
  const unit = new Float32Array(image.data.length);
  for (let i = 0; i < unit.length; i++) unit[i] = (image.data[i] + 1) * 0.5;
  const resized = resizeBilinearAntialias(unit, channels, h, w, size, size);
  const plane = size * size;
  for (let c = 0; c < channels; c++) {
    for (let i = c * plane; i < (c + 1) * plane; i++) resized[i] = (resized[i] - mean[c]) / std[c];
  }
  return tensor(resized, [channels, size, size]);
}
