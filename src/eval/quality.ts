/**
 * Edit quality against ground truth: held-out synthetic scenes (src/scenes) rendered once as they are and once with
 * an edit, so the edited first frame's exact propagation is known. Each method edits the source video from the
 * edited first frame and is scored against the ground-truth edited video (bench/quality.ts, tests/quality).
 */
import type { SvdModel } from '../models/svd.js';
import { anchorBlock, anchorColours, DEFAULT_BLOCK_ANCHOR, type AnchorOptions, type BlockAnchor } from '../pipeline/anchor.js';
import { blendFrames, crossfadeWeight, planBlocks } from '../pipeline/blocks.js';
import { generateTrajectory } from '../pipeline/generate.js';
import type { ChannelStats } from '../pipeline/rescale.js';
import { dilateMask } from '../pipeline/latent-mask.js';
import { INSIDE_EDIT_VARIANTS, type InsideEditVariant, type VideoshopOptions } from '../pipeline/options.js';
import { runVideoshop } from '../pipeline/videoshop.js';
import {
  EDIT_KINDS, clipToTensor, editedObject, editedRegion, heldOutScene, renderScene, sampleEdit, sampleScene,
  type EditKind, type Scene, type SceneEdit,
} from '../scenes/index.js';
import { slice, tensor, type Tensor } from '../tensor.js';
import { videoFlowError } from './epe.js';
import { videoFlows } from '../image/flow.js';
import { psnrFromMse, PSNR_DATA_RANGE } from './psnr.js';
import { ssim } from './ssim.js';

export const QUALITY_METHODS = ['videoshop', 'naive-inversion', 'no-normalization', 'no-rescale', 'no-threshold', 'no-source'] as const;
/** Beyond Table 5: Σ = 0, i.e. extrapolate on every step but the first (σ = 0, where Eq. 7 divides by zero). */
export const EXTRA_METHODS = ['threshold-0'] as const;
/** Videoshop with an edit mask (the true region dilated by MASK_DILATION_PX) and one `insideEdit` variant each. */
export const INSIDE_METHODS = INSIDE_EDIT_VARIANTS.filter((v) => v !== 'none').map((v) => `inside-${v}` as const);
export type InsideMethod = `inside-${Exclude<InsideEditVariant, 'none'>}`;
export type QualityMethod = (typeof QUALITY_METHODS)[number] | (typeof EXTRA_METHODS)[number] | InsideMethod;

/** Pixels the true edited region is dilated by to make the research edit mask (a user's brush is not pixel-exact). */
export const MASK_DILATION_PX = 2;

/** Each method as Videoshop options (Table 5's ablations); 'no-source' is plain SVD from the edited frame instead. */
export const METHOD_OPTIONS: Record<Exclude<QualityMethod, 'no-source'>, Partial<VideoshopOptions>> = {
  ...Object.fromEntries(INSIDE_METHODS.map((m) => [m, { insideEdit: m.slice('inside-'.length) as InsideEditVariant }])) as
    Record<InsideMethod, Partial<VideoshopOptions>>,
  'videoshop': {},
  'naive-inversion': { inversion: 'naive' },
  'no-normalization': { normalization: 'none' },
  'no-rescale': { rescale: false },
  'no-threshold': { threshold: null },
  'threshold-0': { threshold: 0 },
};

export interface EditCase {
  readonly label: string;
  readonly seed: number;
  readonly kind: EditKind;
  readonly scene: Scene;
  readonly edit: SceneEdit;
  /** Source and ground-truth edited videos [F, 3, H, W] in [-1, 1]. */
  readonly source: Tensor;
  readonly target: Tensor;
  /** The edited first frame [3, H, W]: what the user hands in. */
  readonly editedFrame: Tensor;
  /** [F, 1, H, W]: 1 where the edited object is in the source or the edited video. */
  readonly region: Tensor;
}

/** The i-th held-out scene edited with `kind` (frames: the clip length; default the model's 8). */
export function editCase(i: number, kind: EditKind, frames = 8, size = 64): EditCase {
  const h = heldOutScene(i);
  const scene = sampleScene(h.seed, { ...h.options, frames, width: size, height: size });
  const edit = sampleEdit(scene, kind, h.seed);
  const src = renderScene(scene);
  const dst = renderScene(scene, edit);
  const target = clipToTensor(dst);
  return {
    label: h.label, seed: h.seed, kind, scene, edit,
    source: clipToTensor(src), target, editedFrame: frame(target, 0), region: editedRegion(src, dst, editedObject(edit)),
  };
}

/** `scenes` held-out scenes, each with every edit kind. */
export function editCases(scenes: number, frames = 8, size = 64): EditCase[] {
  const out: EditCase[] = [];
  for (let i = 0; i < scenes; i++) for (const kind of EDIT_KINDS) out.push(editCase(i, kind, frames, size));
  return out;
}

export function frame(video: Tensor, t: number): Tensor {
  const [, c, h, w] = video.dims;
  return tensor(slice(video, 0, t, t + 1).data, [c, h, w]);
}

export function frames(video: Tensor): Tensor[] {
  return Array.from({ length: video.dims[0] }, (_, t) => frame(video, t));
}

/** Clamped to [-1, 1]; a video with any non-finite value (the no-threshold ablation's NaN) becomes all NaN. */
function clamp(video: Tensor): Tensor {
  if (video.data.some((v) => !Number.isFinite(v))) return tensor(new Float32Array(video.data.length).fill(NaN), video.dims);
  return tensor(video.data.map((v) => Math.min(1, Math.max(-1, v))), video.dims);
}

/**
 * Runs `method` on one block: source video + edited first frame → edited video [F, 3, H, W], clamped; all NaN when
 * the method produced non-finite values (scores are then NaN, as Table 5 reports for "− Threshold").
 */
export async function runMethod(svd: SvdModel, method: QualityMethod, video: Tensor, editedFrame: Tensor,
  base: Partial<VideoshopOptions> = {}, editMask?: Tensor): Promise<Tensor> {
  if (method === 'no-source') {
    // The paper's "SVD (no src. vid.)": SVD image-to-video from the edited frame and fresh noise, its own defaults.
    const traj = await generateTrajectory(svd.models, editedFrame, { frames: video.dims[0], seed: base.seed ?? 42, scheduler: svd.scheduler });
    const { vae } = svd.models;
    const last = traj.states[traj.states.length - 1];
    const { frames: f, channels, height, width } = traj.shape;
    return clamp(await vae.decode(tensor(last.map((v) => v / vae.scalingFactor), [f, channels, height, width]), f));
  }
  const r = await runVideoshop(svd.models, { video, editedFrame, editMask }, { ...base, ...METHOD_OPTIONS[method], scheduler: svd.scheduler });
  return clamp(r.frames);
}

/** The research edit mask: the case's true region [F, 1, H, W] dilated by `px` pixels (a (2px+1)² max filter per frame). */
export function editMaskFor(region: Tensor, px = MASK_DILATION_PX): Tensor {
  const [F, , H, W] = region.dims;
  return tensor(dilateMask(region.data, F, H, W, px), region.dims);
}

/**
 * What the product's compositing will do (stand-in until that module lands): source·(1 − m) + output·m per pixel, the
 * mask [F, 1, H, W] broadcast over the colour channels. NaN outputs stay NaN.
 */
export function compositeOver(source: Tensor, output: Tensor, mask: Tensor): Tensor {
  const [F, C, H, W] = output.dims;
  const plane = H * W;
  const out = new Float32Array(output.data.length);
  for (let k = 0; k < out.length; k++) {
    const m = mask.data[Math.floor(k / (C * plane)) * plane + (k % plane)];
    out[k] = source.data[k] * (1 - m) + output.data[k] * m;
  }
  if (Number.isNaN(output.data[0])) out.fill(NaN);
  return tensor(out, [F, C, H, W]);
}

export interface EditScores {
  readonly psnr_gt: number;
  readonly ssim_gt: number;
  readonly psnr_gt_inside: number;
  readonly psnr_gt_outside: number;
  readonly flow_epe: number;
}

/** PSNR (pooled over every frame), SSIM (mean per frame), PSNR inside/outside the edited object, flow EPE vs source. */
export function scoreEdit(output: Tensor, c: Pick<EditCase, 'source' | 'target' | 'region'>): EditScores {
  if (Number.isNaN(output.data[0])) return { psnr_gt: NaN, ssim_gt: NaN, psnr_gt_inside: NaN, psnr_gt_outside: NaN, flow_epe: NaN };
  const [F, C, H, W] = output.dims;
  const plane = H * W;
  let all = 0, inside = 0, outside = 0, nIn = 0, nOut = 0;
  for (let f = 0; f < F; f++) {
    for (let ch = 0; ch < C; ch++) {
      for (let i = 0; i < plane; i++) {
        const k = (f * C + ch) * plane + i;
        const d = (output.data[k] - c.target.data[k]) ** 2;
        all += d;
        if (c.region.data[f * plane + i] >= 0.5) { inside += d; nIn++; } else { outside += d; nOut++; }
      }
    }
  }
  const out = frames(output), tgt = frames(c.target);
  return {
    psnr_gt: psnrFromMse(all / output.data.length, PSNR_DATA_RANGE),
    ssim_gt: out.reduce((s, x, t) => s + ssim(x, tgt[t]), 0) / F,
    psnr_gt_inside: nIn ? psnrFromMse(inside / nIn) : NaN,
    psnr_gt_outside: nOut ? psnrFromMse(outside / nOut) : NaN,
    flow_epe: videoFlowError(videoFlows(frames(c.source)), videoFlows(out)),
  };
}

/** Reconstruction: invert the source, regenerate with its own (unedited) first frame; PSNR/SSIM vs the source. */
export async function reconstruction(svd: SvdModel, c: EditCase, base: Partial<VideoshopOptions> = {}): Promise<{ psnr: number; ssim: number }> {
  const out = await runMethod(svd, 'videoshop', c.source, frame(c.source, 0), base);
  const s = scoreEdit(out, { source: c.source, target: c.source, region: c.region });
  return { psnr: s.psnr_gt, ssim: s.ssim_gt };
}

/**
 * A long video edited in blocks as editVideo does (§4.2): blocks of the model's length overlapping by half a block
 * at most 4 frames, each conditioned as `anchor` says (src/pipeline/anchor.ts: 'chained' = the paper, on the block's
 * first frame as already edited; 'edit' = also on the user's edit), seams cross-faded. Returns the PSNR vs ground
 * truth of each block's frames: does error grow block by block?
 */
export async function longVideoByBlock(svd: SvdModel, c: EditCase, blockFrames: number,
  base: Partial<VideoshopOptions> = {}, anchor: BlockAnchor | AnchorOptions = DEFAULT_BLOCK_ANCHOR): Promise<number[]> {
  const total = c.source.dims[0];
  const blocks = planBlocks(total, blockFrames, Math.max(1, Math.min(4, Math.floor(blockFrames / 2))));
  const done = new Map<number, Float32Array>();
  const [, C, H, W] = c.source.dims;
  let editRescaleTarget: ChannelStats | null | undefined;
  let colourReference: ChannelStats | undefined;
  for (let j = 0; j < blocks.length; j++) {
    const b = blocks[j];
    const previous = j === 0 ? undefined : tensor(done.get(b.start)!, [C, H, W]);
    const input = anchorBlock(j, anchor, { edit: c.editedFrame, previous, source: frame(c.source, b.start), editRescaleTarget });
    const r = await runVideoshop(svd.models, { video: slice(c.source, 0, b.start, b.end), ...input },
      { ...base, seed: (base.seed ?? 42) + j, scheduler: svd.scheduler });
    if (j === 0) editRescaleTarget = r.conditioning.rescaleTarget;
    const coloured = anchorColours(j, anchor, clamp(r.frames), colourReference);
    colourReference = coloured.reference;
    const out = clamp(coloured.frames);
    const previousEnd = j > 0 ? blocks[j - 1].end : 0;
    for (let k = 0; k < b.end - b.start; k++) {
      const f = frame(out, k).data;
      const before = done.get(b.start + k);
      done.set(b.start + k, before ? blendFrames(before, f, crossfadeWeight(b.start + k, b.start, previousEnd)) : f);
    }
  }
  return blocks.map((b) => {
    let s = 0, n = 0;
    for (let t = b.start; t < b.end; t++) {
      const o = done.get(t)!, g = frame(c.target, t).data;
      for (let i = 0; i < o.length; i++) { s += (o[i] - g[i]) ** 2; n++; }
    }
    return psnrFromMse(s / n);
  });
}

/**
 * The long-video cases (scene:kind) of bench/quality.ts, at 24 frames (5 blocks of 8, overlap 4): a single object
 * on flat ground (rotating in place), a camera pan (the edited object leaves the view over the last block), two
 * random scenes (scene 6's edited object drifts partly out); each edit kind once. Scenes whose edited object is gone
 * by frame 12 (2, 5) would score the background alone.
 */
export const DEFAULT_LONG_CASES = '0:recolor,1:replace-shape,3:add,6:remove';

/** Least-squares slope of `ys` over their index: dB per block for PSNR by block. */
export function slopePerIndex(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return NaN;
  const mx = (n - 1) / 2, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  ys.forEach((y, x) => { sxy += (x - mx) * (y - my); sxx += (x - mx) ** 2; });
  return sxy / sxx;
}

/** The VAE's own ceiling: encode (mode) → decode of the source, PSNR vs the source. No method can beat it. */
export async function vaeRoundTripPsnr(svd: SvdModel, c: EditCase): Promise<number> {
  const { vae } = svd.models;
  const z = await vae.encode(c.source);
  const out = clamp(await vae.decode(z, c.source.dims[0]));
  return scoreEdit(out, { source: c.source, target: c.source, region: c.region }).psnr_gt;
}
