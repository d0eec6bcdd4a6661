/**
 * All of the paper's automatic metrics (§4) for one edit, except TIFA and FVD: CLIP_tgt(⁺), CLIP_src(⁺), CLIP_TC
 * (when an image embedder is given), SSIM and PSNR (edited vs source frames), Flow and Flow⁺ (EPE between the source's
 * and the edited video's optical flow; see flow.ts for the estimator). Frames are [3,H,W] in [-1, 1].
 */
import type { ImageEmbedder } from '../models/types.js';
import type { Tensor } from '../tensor.js';
import { computeClipMetrics } from './clip-metrics.js';
import { videoFlowError } from './epe.js';
import { type FlowOptions, videoFlows } from '../image/flow.js';
import { assertPairedVideos, sameFrameSize } from './frames.js';
import { videoPsnr } from './psnr.js';
import { type SsimOptions, videoSsim } from './ssim.js';

export interface EditEvaluationInput {
  readonly source: readonly Tensor[];
  readonly edited: readonly Tensor[];
  /** The edited first frame the user made (the paper's "target image"); needed for CLIP_tgt. */
  readonly target?: Tensor;
  /** Edit masks ([H,W] in [0, 1], edited where ≥ 0.5): one per frame or one for all; enable the ⁺ metrics. */
  readonly masks?: readonly Tensor[];
  /** CLIP image encoder for the CLIP metrics; without it they are left out. */
  readonly embedder?: Pick<ImageEmbedder, 'embed'>;
  readonly flow?: FlowOptions;
  readonly ssim?: SsimOptions;
  /** PSNR data range (default 2 for [-1, 1]). */
  readonly psnrDataRange?: number;
  /** Skip the optical-flow metrics (the slowest part). */
  readonly skipFlow?: boolean;
}

export interface EditMetrics {
  clipTgt?: number;
  clipTgtPlus?: number;
  clipSrc?: number;
  clipSrcPlus?: number;
  clipTC?: number;
  ssim: number;
  psnr: number;
  flow?: number;
  flowPlus?: number;
}

export async function evaluateEdit(input: EditEvaluationInput): Promise<EditMetrics> {
  const { source, edited, masks } = input;
  assertPairedVideos(edited, source, 'evaluate');
  edited.forEach((e, t) => sameFrameSize(e, source[t], `evaluate frame ${t}`));
  if (masks && masks.length !== 1 && masks.length !== edited.length) {
    throw new Error(`evaluate: ${masks.length} masks for ${edited.length} frames (give one per frame or one for all)`);
  }
  const metrics: EditMetrics = {
    ssim: videoSsim(edited, source, input.ssim),
    psnr: videoPsnr(edited, source, input.psnrDataRange),
  };
  if (input.embedder) {
    if (!input.target) throw new Error('evaluate: CLIP metrics need the target image (the edited first frame)');
    Object.assign(metrics, await computeClipMetrics(input.embedder, { edited, source, target: input.target, masks }));
  }
  if (!input.skipFlow && edited.length >= 2) {
    const sourceFlows = videoFlows(source, input.flow);
    const editedFlows = videoFlows(edited, input.flow);
    metrics.flow = videoFlowError(sourceFlows, editedFlows);
    if (masks) metrics.flowPlus = videoFlowError(sourceFlows, editedFlows, masks);
  }
  return metrics;
}
