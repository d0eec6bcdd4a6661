/**
 * The paper's CLIP metrics from image embeddings the caller computed (e.g. ClipImageEmbedder.embed, no network here):
 *   CLIP_tgt  mean over edited frames t of cos(E(edited_t), E(target))       target = the edited first frame
 *   CLIP_src  mean over t of cos(E(edited_t), E(source_t))
 *   CLIP_TC   mean over t of cos(E(edited_t), E(edited_t+1))
 * CLIP_tgt⁺ and CLIP_src⁺ are the same on masked images (the paper tracked the edited region with CoTracker; here the
 * caller passes per-frame masks): `maskImage(frame, mask, 'inside')` keeps the edited region (mask ≥ 0.5) and paints
 * everything else the neutral value 0 (mid grey in [-1, 1]); 'outside' keeps the rest and greys the edited region.
 * CLIP_tgt⁺ compares inside(edited_t, mask_t) with inside(target, mask_0); CLIP_src⁺ compares outside(edited_t, mask_t)
 * with outside(source_t, mask_t).
 */
import type { ImageEmbedder } from '../models/types.js';
import type { Tensor } from '../tensor.js';
import { MASK_THRESHOLD, assertPairedVideos, frameSize, maskPlane } from './frames.js';

/** torch.nn.functional.cosine_similarity: a·b / max(‖a‖‖b‖, eps) (so a zero vector scores 0). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-8): number {
  if (a.length !== b.length) throw new Error(`cosine similarity: lengths ${a.length} and ${b.length} differ`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), eps);
}

function nonEmpty(list: readonly unknown[], what: string): void {
  if (list.length === 0) throw new Error(`${what}: no embeddings`);
}

/** CLIP_tgt: mean cosine similarity of every edited frame's embedding with the target image's. */
export function clipTarget(edited: readonly Float32Array[], target: Float32Array): number {
  nonEmpty(edited, 'CLIP_tgt');
  return edited.reduce((s, e) => s + cosineSimilarity(e, target), 0) / edited.length;
}

/** CLIP_src: mean cosine similarity of edited frame t with source frame t. */
export function clipSource(edited: readonly Float32Array[], source: readonly Float32Array[]): number {
  nonEmpty(edited, 'CLIP_src');
  if (edited.length !== source.length) throw new Error(`CLIP_src: ${edited.length} edited vs ${source.length} source embeddings`);
  return edited.reduce((s, e, t) => s + cosineSimilarity(e, source[t]), 0) / edited.length;
}

/** CLIP_TC: mean cosine similarity of consecutive edited frames (needs ≥ 2 frames). */
export function clipTemporal(edited: readonly Float32Array[]): number {
  if (edited.length < 2) throw new Error('CLIP_TC: needs at least 2 frames');
  let s = 0;
  for (let t = 0; t + 1 < edited.length; t++) s += cosineSimilarity(edited[t], edited[t + 1]);
  return s / (edited.length - 1);
}

export type MaskRegion = 'inside' | 'outside';

/** The neutral fill of masked-out pixels: 0 in [-1, 1] space, mid grey. */
export const MASK_FILL = 0;

/**
 * A copy of `frame` [C,H,W] that keeps only one side of `mask` ([H,W] or [1,H,W] in [0, 1], edited where ≥ 0.5):
 * 'inside' keeps the edited region, 'outside' keeps the rest; the other pixels become `fill`.
 */
export function maskImage(frame: Tensor, mask: Tensor, region: MaskRegion, fill = MASK_FILL): Tensor {
  const { channels, height, width } = frameSize(frame, 'maskImage');
  const m = maskPlane(mask, height, width, 'maskImage mask');
  const plane = height * width;
  const out = new Float32Array(frame.data);
  const keepInside = region === 'inside';
  for (let i = 0; i < plane; i++) {
    if ((m[i] >= MASK_THRESHOLD) === keepInside) continue;
    for (let c = 0; c < channels; c++) out[c * plane + i] = fill;
  }
  return { data: out, dims: [channels, height, width] };
}

export interface ClipScores {
  readonly clipTgt: number;
  readonly clipSrc: number;
  readonly clipTC: number;
  /** Present when masks were given. */
  readonly clipTgtPlus?: number;
  readonly clipSrcPlus?: number;
}

export interface ClipMetricsInput {
  /** Edited video frames [3,H,W] in [-1, 1]. */
  readonly edited: readonly Tensor[];
  /** Source video frames, same count and size. */
  readonly source: readonly Tensor[];
  /** The edited first frame (the user's target image). */
  readonly target: Tensor;
  /** Edit masks: one per frame, or a single one for every frame. */
  readonly masks?: readonly Tensor[];
}

/** Every CLIP metric, embedding each needed image once with the caller's embedder (sequentially). */
export async function computeClipMetrics(embedder: Pick<ImageEmbedder, 'embed'>, input: ClipMetricsInput): Promise<ClipScores> {
  const { edited, source, target, masks } = input;
  assertPairedVideos(edited, source, 'CLIP metrics');
  const embedAll = async (frames: readonly Tensor[]): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for (const f of frames) out.push(await embedder.embed(f));
    return out;
  };
  const e = await embedAll(edited);
  const s = await embedAll(source);
  const tgt = await embedder.embed(target);
  const scores = { clipTgt: clipTarget(e, tgt), clipSrc: clipSource(e, s), clipTC: clipTemporal(e) };
  if (!masks) return scores;
  if (masks.length !== 1 && masks.length !== edited.length) {
    throw new Error(`CLIP metrics: ${masks.length} masks for ${edited.length} frames`);
  }
  const maskAt = (t: number): Tensor => masks[masks.length === 1 ? 0 : t];
  const eIn = await embedAll(edited.map((f, t) => maskImage(f, maskAt(t), 'inside')));
  const tgtIn = await embedder.embed(maskImage(target, maskAt(0), 'inside'));
  const eOut = await embedAll(edited.map((f, t) => maskImage(f, maskAt(t), 'outside')));
  const sOut = await embedAll(source.map((f, t) => maskImage(f, maskAt(t), 'outside')));
  return { ...scores, clipTgtPlus: clipTarget(eIn, tgtIn), clipSrcPlus: clipSource(eOut, sOut) };
}
