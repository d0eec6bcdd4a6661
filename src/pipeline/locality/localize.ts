/**
 * The edit's place in every frame, in order: the edited pixels of the first frame, tracked through the source with
 * its own motion (track.ts), united with where the generated frame departs from the source near that place
 * (edit-region.ts), grown. The work is done on a small grid (the processing size shrunk to a shorter side of at
 * most GRID_SIDE): masks are smooth, and the cost stays a sliver of the edit's. Compositing scales them up.
 */
import { resizeImage } from '../../image/resize.js';
import type { Tensor } from '../../tensor.js';
import { featherAlpha } from './composite.js';
import { departure, editDifference, editedPixels, LOCALITY_PARAMS, pixels, type LocalityParams } from './edit-region.js';
import { binaryMask, coverage, dilate, intersectMask, isEmpty, resizeMask, subtractMask, unionMask, type Mask } from './mask.js';
import { carryMask, FlowTracker } from './track.js';

/** Shorter side of the grid the masks are computed on. */
export const GRID_SIDE = 288;

export interface LocalizeOptions {
  readonly params?: LocalityParams;
  /** A region the user marked on the first frame (any size; scaled to the grid), added to the edited pixels. */
  readonly userMask?: Mask;
  /**
   * A region the user marked as unedited on the first frame (any size; scaled to the grid): taken out of the first
   * frame's region, after `userMask` (it wins where both are marked). Later frames follow the tracked region, and the
   * generated video's departures are looked for only near it, so a far-off mark stays out. The first frame's mask
   * stays out of it even at the seam; on later frames the seam's growth at the region's edge may reach into it.
   */
  readonly keepMask?: Mask;
  /**
   * What is carried to the next frame: the tracked region only; with this frame's departures too (`final`); or with
   * the departures that touch it, within `grow` (`adjacent`: the flow's lag at a moving edge is corrected, a drift
   * far from the edit is not carried).
   */
  readonly propagate?: 'tracked' | 'final' | 'adjacent';
}

/** The grid for frames of width×height. */
export function maskGrid(width: number, height: number): { width: number; height: number } {
  const s = Math.min(1, GRID_SIDE / Math.min(width, height));
  return { width: Math.max(8, Math.round(width * s)), height: Math.max(8, Math.round(height * s)) };
}

export class EditLocalizer {
  readonly grid: { readonly width: number; readonly height: number };
  /** The first frame's edited pixels (and the user's region), on the grid, not grown. */
  readonly firstRegion: Mask;
  /** Share of the first frame the edit changed: the grown edited pixels, or faint changes if they reach further. */
  readonly coverage: number;
  /** No edited pixels before the user's marks: what `looksUnedited` says of these frames (same grid, same difference). */
  readonly unedited: boolean;
  private readonly params: LocalityParams;
  private readonly propagate: 'tracked' | 'final' | 'adjacent';
  private readonly flow: FlowTracker;
  private carried: Mask | undefined;
  /** The user's unedited region on the grid: out of the first frame's mask even after growth. */
  private keep: Mask | undefined;
  private previous: Tensor | undefined;

  /** `source` and `edited`: the first frame before and after the edit, [3,H,W] at the processing size. */
  constructor(source: Tensor, edited: Tensor, opts: LocalizeOptions = {}) {
    this.params = opts.params ?? LOCALITY_PARAMS;
    this.propagate = opts.propagate ?? 'tracked';
    this.grid = maskGrid(source.dims[2], source.dims[1]);
    this.flow = new FlowTracker({ winSize: this.params.flowWindow });
    const [src, dst] = [this.toGrid(source), this.toGrid(edited)];
    const difference = editDifference(src, dst, this.params);
    let region = difference.pixels;
    this.unedited = isEmpty(region);
    const { width: gw, height: gh } = this.grid;
    if (opts.userMask) region = unionMask(region, binaryMask(resizeMask(opts.userMask, gw, gh).data, gw, gh, 0.5));
    if (opts.keepMask) {
      this.keep = binaryMask(resizeMask(opts.keepMask, gw, gh).data, gw, gh, 0.5);
      region = subtractMask(region, this.keep);
    }
    this.firstRegion = region;
    this.coverage = Math.max(coverage(this.grow(region)), difference.faint);
  }

  /** Whether the edit covers so much of the frame that it is global (a recolour of everything, a style). */
  get global(): boolean {
    return this.coverage > this.params.globalCoverage;
  }

  /**
   * The next frame's mask (frame 0 first, each frame once, in order): `source` and `generated` [3,H,W] at the
   * processing size. Binary, on the grid, grown; `alpha` feathers it for compositing.
   */
  next(source: Tensor, generated: Tensor): Mask {
    const src = this.toGrid(source);
    const flow = this.flow.next(src);
    const first = this.previous === undefined;
    const tracked = this.carried && flow && this.previous ? carryMask(this.carried, flow, this.previous, src) : this.firstRegion;
    this.previous = src;
    const departed = departure(src, this.toGrid(generated), tracked, this.params);
    const found = unionMask(tracked, departed);
    this.carried = this.propagate === 'final' ? found
      : this.propagate === 'adjacent' ? unionMask(tracked, intersectMask(departed, this.grow(tracked))) : tracked;
    const grown = this.grow(found);
    return first && this.keep ? subtractMask(grown, this.keep) : grown;
  }

  /** The blend weight of the model's frame for a mask from `next`. */
  alpha(mask: Mask): Mask {
    return featherAlpha(mask, pixels(this.params.feather, mask.width, mask.height) / 2, this.params.seam);
  }

  private grow(m: Mask): Mask {
    return dilate(m, pixels(this.params.grow, m.width, m.height));
  }

  private toGrid(frame: Tensor): Tensor {
    return resizeImage(frame, this.grid.width, this.grid.height);
  }
}

/**
 * Whether the edited frame is the source's first frame as exported, unedited ([3,H,W] each, any size): no edited
 * pixels on the grid. Colour counts, not only brightness; export differences (another decoder's chroma upsampling,
 * JPEG) are below the threshold after the blur (docs/locality.md).
 */
export function looksUnedited(source: Tensor, edited: Tensor, params: LocalityParams = LOCALITY_PARAMS): boolean {
  const grid = maskGrid(source.dims[2], source.dims[1]);
  return isEmpty(editedPixels(resizeImage(source, grid.width, grid.height), resizeImage(edited, grid.width, grid.height), params));
}
