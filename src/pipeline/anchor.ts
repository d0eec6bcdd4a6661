/**
 * What each block of a long video is conditioned on (paper §4.2). The paper chains blocks: block j > 0 takes the
 * previous block's edited frame at its start as the edited frame for everything: the conditioning latents, the CLIP
 * embedding and the rescaling target of Eq. 9. Every block then inherits the previous block's error and the edit
 * fades (toy model, 24 frames in 5 blocks: −0.80 dB per block against ground truth, docs/quality.md "Long videos:
 * anchoring"). Anchoring takes parts of a block's conditioning from what carries no accumulated error: the user's own
 * edit (CLIP embedding, Eq. 9's target) and, outside the edit, the source video ('edit': −0.11 dB per block).
 *
 * Pure: this decides the inputs of runVideoshop for block j; the block loops (src/edit/edit-video.ts, the
 * benchmark's longVideoByBlock in src/eval/quality.ts) run it.
 */
import type { Tensor } from '../tensor.js';
import type { ChannelStats } from './rescale.js';
import type { VideoshopInput } from './videoshop.js';

/** Where a part of a later block's conditioning comes from: the user's edit, or the previous block's frame. */
export type AnchorSource = 'edit' | 'previous';

export interface AnchorOptions {
  /** The frame CLIP embeds for the denoising (the edit branch). */
  readonly embedding: AnchorSource;
  /** The rescaling target of Eq. 9: per-channel stats of scaling_factor·encode(the user's edit | the previous frame). */
  readonly rescale: AnchorSource;
  /**
   * Weight of the user's edit in the conditioning frame's pixels (the frame whose latents are concatenated to every
   * frame, and the rescale target when `rescale` is 'previous'): 0 = the previous block's frame alone (paper).
   */
  readonly editMix: number;
  /**
   * Outside the edit, take the conditioning frame's pixels from the source video: where the previous block's frame
   * is within `sourceBand` of the block's own source frame (the edit did not change it there), the source frame is
   * the exact answer, and the previous frame only adds its regeneration error (blur, colour drift). In units of the
   * [-1, 1] range, per channel: [0.1, 0.25] ≈ 13 to 32 levels of 255 (see restoreUnedited). null: off.
   */
  readonly sourceBand: readonly [number, number] | null;
  /**
   * Map each later block's output, per RGB channel, onto the mean and std of block 0's output (over all its frames
   * and pixels): the colour drift that regeneration adds block by block is taken out against the one block that was
   * conditioned on the user's edit itself. Assumes the scene's colours stay roughly the same along the video.
   */
  readonly matchColours: boolean;
}

/** The named anchorings of the edit request: 'chained' is the paper's §4.2, bit for bit. */
export const BLOCK_ANCHORS = {
  chained: { embedding: 'previous', rescale: 'previous', editMix: 0, sourceBand: null, matchColours: false },
  edit: { embedding: 'edit', rescale: 'edit', editMix: 0, sourceBand: [0.1, 0.25], matchColours: false },
} as const satisfies Record<string, AnchorOptions>;

export type BlockAnchor = keyof typeof BLOCK_ANCHORS;
export const BLOCK_ANCHOR_NAMES = Object.keys(BLOCK_ANCHORS) as BlockAnchor[];
export const DEFAULT_BLOCK_ANCHOR: BlockAnchor = 'edit';

export interface AnchorContext {
  /** The user's edited first frame [3, H, W] at the processing size. */
  readonly edit: Tensor;
  /** What block 0's CLIP embeds (e.g. the frames at their own resolution); block 0 gets them as they are. */
  readonly embeddingFrames?: VideoshopInput['embeddingFrames'];
  /** The previous block's edited frame at this block's start [3, H, W] (needed for j > 0). */
  readonly previous?: Tensor;
  /** The block's first source frame [3, H, W] (needed for j > 0 with sourceBand). */
  readonly source?: Tensor;
  /** Block 0's rescaling target (its result's conditioning.rescaleTarget; needed for j > 0 with rescale 'edit'). */
  readonly editRescaleTarget?: ChannelStats | null;
}

/** runVideoshop's inputs besides the block's video: what block j is conditioned on. */
export type BlockConditioning = Pick<VideoshopInput, 'editedFrame' | 'embeddingFrames' | 'conditioning'>;

export function anchorOptions(anchor: AnchorOptions | BlockAnchor): AnchorOptions {
  return typeof anchor === 'string' ? BLOCK_ANCHORS[anchor] : anchor;
}

export function anchorBlock(j: number, anchor: AnchorOptions | BlockAnchor, ctx: AnchorContext): BlockConditioning {
  const a = anchorOptions(anchor);
  if (!(a.editMix >= 0 && a.editMix <= 1)) throw new RangeError(`anchor editMix must be in [0, 1], got ${a.editMix}`);
  if (j === 0) return { editedFrame: ctx.edit, embeddingFrames: ctx.embeddingFrames };
  if (!ctx.previous) throw new RangeError(`block ${j + 1} needs the previous block's edited frame`);
  let editedFrame = ctx.previous;
  if (a.sourceBand) {
    if (!ctx.source) throw new RangeError(`block ${j + 1} needs its source frame`);
    editedFrame = restoreUnedited(editedFrame, ctx.source, a.sourceBand);
  }
  if (a.editMix > 0) editedFrame = mixFrames(editedFrame, ctx.edit, a.editMix);
  // CLIP sees a global summary of the frame: the user's edit says what the edited object looks like without the
  // blur and colour drift that each regenerated block adds.
  const embeddingFrames = a.embedding === 'edit' ? { edited: ctx.embeddingFrames?.edited ?? ctx.edit } : undefined;
  let conditioning: VideoshopInput['conditioning'];
  if (a.rescale === 'edit') {
    // Eq. 9 maps the block's first frame onto these per-channel stats; the edit's have no accumulated drift.
    if (ctx.editRescaleTarget === undefined) throw new RangeError(`block ${j + 1} needs block 1's rescaling target`);
    if (ctx.editRescaleTarget) conditioning = { rescaleTarget: ctx.editRescaleTarget };
  }
  return { editedFrame, ...(embeddingFrames ? { embeddingFrames } : {}), ...(conditioning ? { conditioning } : {}) };
}

/** (1 − w)·a + w·b, element-wise, same dims. */
export function mixFrames(a: Tensor, b: Tensor, w: number): Tensor {
  if (a.data.length !== b.data.length) throw new RangeError('mixFrames: frames differ in size');
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - w) * a.data[i] + w * b.data[i];
  return { data: out, dims: [...a.dims] };
}

/**
 * source + m·(edited − source) per pixel, m = 0 where the two differ by at most band[0] in every channel (units of
 * the [-1, 1] range), 1 from band[1] on, linear between, then dilated by one pixel so the edit's edges stay edited.
 */
export function restoreUnedited(edited: Tensor, source: Tensor, band: readonly [number, number]): Tensor {
  const [C, H, W] = edited.dims;
  if (source.data.length !== edited.data.length) throw new RangeError('restoreUnedited: frames differ in size');
  const plane = H * W;
  const m = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    let d = 0;
    for (let c = 0; c < C; c++) d = Math.max(d, Math.abs(edited.data[c * plane + i] - source.data[c * plane + i]));
    m[i] = Math.min(1, Math.max(0, (d - band[0]) / Math.max(1e-6, band[1] - band[0])));
  }
  const dilated = new Float32Array(plane);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < H && xx >= 0 && xx < W) v = Math.max(v, m[yy * W + xx]);
        }
      }
      dilated[y * W + x] = v;
    }
  }
  const out = new Float32Array(edited.data.length);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < plane; i++) {
      const k = c * plane + i;
      out[k] = source.data[k] + dilated[i] * (edited.data[k] - source.data[k]);
    }
  }
  return { data: out, dims: [...edited.dims] };
}

/** Per RGB channel mean and std of frames [F, 3, H, W] over frames and pixels, values clamped to [-1, 1] first. */
export function frameColourStats(frames: Tensor): ChannelStats {
  const [F, C, H, W] = frames.dims;
  const plane = H * W;
  const mean: number[] = [], std: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0, s2 = 0;
    for (let f = 0; f < F; f++) {
      const base = (f * C + c) * plane;
      for (let i = base; i < base + plane; i++) {
        const v = Math.min(1, Math.max(-1, frames.data[i]));
        s += v;
        s2 += v * v;
      }
    }
    const n = F * plane, m = s / n;
    mean.push(m);
    std.push(Math.sqrt(Math.max(1e-12, s2 / n - m * m)));
  }
  return { mean, std };
}

/**
 * Block j's output frames [F, 3, H, W] as the block loop keeps them: block 0's as they are (and their colour
 * statistics become `reference`), a later block's mapped per channel onto `reference` when the anchoring matches
 * colours (an affine map, as Eq. 9 does on latents, here in RGB). Not clamped.
 */
export function anchorColours(j: number, anchor: AnchorOptions | BlockAnchor, frames: Tensor,
  reference: ChannelStats | undefined): { frames: Tensor; reference: ChannelStats | undefined } {
  const a = anchorOptions(anchor);
  if (!a.matchColours) return { frames, reference };
  if (j === 0) return { frames, reference: frameColourStats(frames) };
  if (!reference) throw new RangeError(`block ${j + 1} needs block 1's colour statistics`);
  const own = frameColourStats(frames);
  const [F, C, H, W] = frames.dims;
  const plane = H * W;
  const out = new Float32Array(frames.data.length);
  for (let c = 0; c < C; c++) {
    const gain = reference.std[c] / own.std[c];
    for (let f = 0; f < F; f++) {
      const base = (f * C + c) * plane;
      for (let i = base; i < base + plane; i++) out[i] = (frames.data[i] - own.mean[c]) * gain + reference.mean[c];
    }
  }
  return { frames: { data: out, dims: [...frames.dims] }, reference };
}
