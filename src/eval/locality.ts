/**
 * The product's localized edit on the benchmark's tensors: the edit's place tracked frame by frame
 * (src/pipeline/locality), the model's output composited over the source, and the mask's own quality (IoU against
 * the ground-truth edited region). Here the source is at the processing size, so compositing changes no resolution.
 */
import { compositeFrame, EditLocalizer, maskIoU, resizeMask, type LocalizeOptions, type Mask } from '../pipeline/locality/index.js';
import { concat, slice, tensor, type Tensor } from '../tensor.js';

export interface LocalizedOutput {
  /** [F,3,H,W]: the source outside the masks, the model's output inside. */
  readonly video: Tensor;
  /** Per frame, the mask (on the localizer's grid). */
  readonly masks: readonly Mask[];
  /** Whether the edit was global (then `video` is the model's output unchanged). */
  readonly global: boolean;
}

function frameAt(video: Tensor, t: number): Tensor {
  const [, c, h, w] = video.dims;
  return tensor(slice(video, 0, t, t + 1).data, [c, h, w]);
}

/** Composites `generated` [F,3,H,W] over `source` (same shape) where the edit of `editedFrame` is, frame by frame. */
export function localizeOutput(source: Tensor, editedFrame: Tensor, generated: Tensor, opts: LocalizeOptions = {}): LocalizedOutput {
  const localizer = new EditLocalizer(frameAt(source, 0), editedFrame, opts);
  const F = source.dims[0];
  const masks: Mask[] = [];
  const out: Tensor[] = [];
  for (let t = 0; t < F; t++) {
    const src = frameAt(source, t), gen = frameAt(generated, t);
    const mask = localizer.next(src, gen);
    masks.push(mask);
    out.push(localizer.global ? gen : compositeFrame(src, gen, localizer.alpha(mask)));
  }
  const [, c, h, w] = source.dims;
  return { video: concat(out.map((f) => tensor(f.data, [1, c, h, w])), 0), masks, global: localizer.global };
}

/** Mean IoU over frames of the masks against a ground-truth region [F,1,H,W] (≥ 0.5 inside). */
export function maskIoUAgainst(masks: readonly Mask[], region: Tensor): number {
  const [F, , H, W] = region.dims;
  let sum = 0;
  for (let t = 0; t < F; t++) {
    const truth: Mask = { data: slice(region, 0, t, t + 1).data, width: W, height: H };
    sum += maskIoU(resizeMask(masks[t], W, H), truth);
  }
  return sum / F;
}
