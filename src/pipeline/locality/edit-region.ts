/**
 * Where an edit is: the edited first frame against the source's, and, in later frames, where the generated video
 * departs from the source near the tracked region (the edit's shadow, a removed object's hole, an object the model
 * moved a little off the tracked place). All sizes scale with the frame (`LocalityParams`), thresholds are in
 * 8-bit levels of colour distance (difference.ts). How each number was chosen: docs/locality.md.
 */
import type { Tensor } from '../../tensor.js';
import { colourDistance } from './difference.js';
import { binaryMask, dilate, intersectMask, removeSmallRegions, type Mask } from './mask.js';

export interface LocalityParams {
  /** Colour distance (levels, after the blur) above which the edited frame differs from the source's. */
  readonly editThreshold: number;
  /** Colour distance above which a generated frame departs from its source frame. */
  readonly departThreshold: number;
  /** σ of the difference's blur, as a share of the frame's shorter side (at least 0.5 px). */
  readonly blur: number;
  /** Regions smaller than this share of the frame's area are noise. */
  readonly minArea: number;
  /** How far the mask grows around what was found, share of the shorter side (at least 1 px). */
  readonly grow: number;
  /** How far from the tracked region a departure still belongs to the edit, share of the shorter side. */
  readonly near: number;
  /** Width of the feathered seam, share of the shorter side (at least 1 px). */
  readonly feather: number;
  /** Where the seam lies: all outside the mask (the mask is the model's entirely), or centred on its edge. */
  readonly seam: 'outside' | 'centred';
  /** Side of the optical flow's averaging window on the mask grid (Farnebäck's winSize): smaller follows edges closer. */
  readonly flowWindow: number;
  /** Above this share of the frame the edit is global (a recolour of everything, a style): no compositing. */
  readonly globalCoverage: number;
  /**
   * A faint change (levels): when more than `globalCoverage` of the first frame changed by this much, the edit is
   * global too, however far below `editThreshold` each pixel stays (a mild grade of the whole frame).
   */
  readonly faintThreshold: number;
}

export const LOCALITY_PARAMS: LocalityParams = Object.freeze({
  editThreshold: 20,
  departThreshold: 120,
  blur: 0.008,
  minArea: 0.0001,
  grow: 0,
  near: 0.03,
  feather: 0.02,
  seam: 'outside',
  flowWindow: 15,
  globalCoverage: 0.5,
  faintThreshold: 5,
});

/** A share of the shorter side in pixels of a width×height frame: 0 for 0, else at least `min`. */
export function pixels(share: number, width: number, height: number, min = 1): number {
  return share <= 0 ? 0 : Math.max(min, Math.round(share * Math.min(width, height)));
}

function blurSigma(p: LocalityParams, w: number, h: number): number {
  return Math.max(0.5, p.blur * Math.min(w, h));
}

function cleaned(m: Mask, p: LocalityParams): Mask {
  return removeSmallRegions(m, Math.max(2, Math.round(p.minArea * m.width * m.height)));
}

/**
 * The edited first frame against the source's (both [3,H,W]), from one colour distance: the pixels that differ
 * (cleaned, not grown), and the share of the frame that changed at least faintly (`faintThreshold`).
 */
export function editDifference(source: Tensor, edited: Tensor, p: LocalityParams = LOCALITY_PARAMS): { pixels: Mask; faint: number } {
  const [, h, w] = source.dims;
  const d = colourDistance(source, edited, blurSigma(p, w, h));
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] >= p.faintThreshold) n++;
  return { pixels: cleaned(binaryMask(d, w, h, p.editThreshold), p), faint: n / d.length };
}

/** Pixels of the edited first frame that differ from the source's first frame (both [3,H,W]), cleaned, not grown. */
export function editedPixels(source: Tensor, edited: Tensor, p: LocalityParams = LOCALITY_PARAMS): Mask {
  return editDifference(source, edited, p).pixels;
}

/** Where `generated` departs from `source` ([3,H,W] each) within `near` of `tracked`, cleaned. */
export function departure(source: Tensor, generated: Tensor, tracked: Mask,
  p: LocalityParams = LOCALITY_PARAMS): Mask {
  const { width: w, height: h } = tracked;
  const far = binaryMask(colourDistance(source, generated, blurSigma(p, w, h)), w, h, p.departThreshold);
  return cleaned(intersectMask(far, dilate(tracked, pixels(p.near, w, h))), p);
}
