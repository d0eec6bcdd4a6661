/**
 * End-point error between flow fields [2,H,W]: the mean over pixels of ‖f_a − f_b‖₂, optionally only where an
 * edit mask is below 0.5 (outside the edited region, for Flow⁺). The paper's Flow / Flow⁺ compare the source video's
 * flows with the edited video's, pair by pair, and average over frame pairs (`videoFlowError`).
 */
import type { Tensor } from '../tensor.js';
import { MASK_THRESHOLD, maskPlane } from './frames.js';
import { resizeBilinear } from '../image/image-ops.js';

function flowSize(flow: Tensor, what: string): { height: number; width: number } {
  if (flow.dims.length !== 3 || flow.dims[0] !== 2) throw new Error(`${what}: expected a flow [2,H,W], got [${flow.dims.join(', ')}]`);
  return { height: flow.dims[1], width: flow.dims[2] };
}

/**
 * Mean end-point error of two flows [2,H,W]. With a mask ([H,W] in [0, 1]) only pixels with mask < 0.5 count.
 * Returns NaN when no pixel counts (a mask covering everything).
 */
export function endPointError(a: Tensor, b: Tensor, mask?: Tensor): number {
  const { height, width } = flowSize(a, 'epe');
  const sb = flowSize(b, 'epe');
  if (sb.height !== height || sb.width !== width) throw new Error(`epe: flows [${a.dims.join(', ')}] and [${b.dims.join(', ')}] differ`);
  const m = mask ? maskPlane(mask, height, width, 'epe mask') : undefined;
  const n = height * width;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (m && m[i] >= MASK_THRESHOLD) continue;
    sum += Math.hypot(a.data[i] - b.data[i], a.data[n + i] - b.data[n + i]);
    count++;
  }
  return count === 0 ? NaN : sum / count;
}

/** A mask [H,W] resized (bilinear) to a flow computed on a shrunk grid; the 0.5 threshold applies afterwards. */
export function maskForFlow(mask: Tensor, flow: Tensor): Tensor {
  const { height, width } = flowSize(flow, 'maskForFlow');
  const dims = mask.dims.length === 3 ? mask.dims.slice(1) : mask.dims;
  if (dims[0] === height && dims[1] === width) return mask;
  return resizeBilinear({ data: mask.data, dims }, height, width);
}

/**
 * Flow / Flow⁺: the mean over frame pairs of the EPE between the source's and the edited video's flows (pair t is
 * frame t → t+1). `masks` (one per frame, or a single one for all) restrict pair t to frame t's unedited pixels;
 * pairs with no unedited pixel are skipped (NaN if all are).
 */
export function videoFlowError(sourceFlows: readonly Tensor[], editedFlows: readonly Tensor[],
  masks?: readonly Tensor[]): number {
  if (sourceFlows.length !== editedFlows.length) {
    throw new Error(`flow error: ${sourceFlows.length} source flows vs ${editedFlows.length} edited flows`);
  }
  if (sourceFlows.length === 0) throw new Error('flow error: no frame pairs (a video needs at least 2 frames)');
  if (masks && masks.length !== 1 && masks.length < sourceFlows.length) {
    throw new Error(`flow error: ${masks.length} masks for ${sourceFlows.length + 1} frames`);
  }
  let sum = 0;
  let count = 0;
  sourceFlows.forEach((f, t) => {
    const mask = masks ? maskForFlow(masks.length === 1 ? masks[0] : masks[t], f) : undefined;
    const e = endPointError(f, editedFlows[t], mask);
    if (!Number.isNaN(e)) {
      sum += e;
      count++;
    }
  });
  return count === 0 ? NaN : sum / count;
}
