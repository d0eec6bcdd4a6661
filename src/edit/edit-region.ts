/**
 * The region an edit will change, before it runs: what the page overlays on the frame before Render, and the warnings
 * that can be known then (the edited frame looks unedited; the edit covers so much that `keep-unedited auto` will
 * re-render the whole frame). The same localizer as the edit's first frame (pipeline/locality), on the source's
 * first frame as exported and the edited frame as given.
 */
import { EditLocalizer, isEmpty } from '../pipeline/locality/index.js';
import { fitImage, readImage } from '../video/image.js';

export interface EditRegionPreview {
  /** The mask's grid (the frame scaled to a shorter side of at most 288). */
  readonly width: number;
  readonly height: number;
  /** 1 where the edit changed the first frame, row-major on the grid. */
  readonly mask: Uint8Array;
  /** Share of the frame the edit changed (0…1). */
  readonly coverage: number;
  /** No pixel differs beyond export noise: the output would be the source. */
  readonly unedited: boolean;
  /** Over the global share: `keep-unedited auto` re-renders the whole frame. */
  readonly wholeFrame: boolean;
}

/** `sourceFrame`: the video's frame as exportFrame wrote it; `editedFrame`: the user's image (scaled to it if needed). */
export async function previewEditRegion(sourceFrame: string, editedFrame: string): Promise<EditRegionPreview> {
  const source = await readImage(sourceFrame);
  let edited = await readImage(editedFrame);
  const [, h, w] = source.dims;
  if (edited.dims[1] !== h || edited.dims[2] !== w) edited = fitImage(edited, w, h);
  const localizer = new EditLocalizer(source, edited);
  const region = localizer.firstRegion;
  const mask = new Uint8Array(region.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = region.data[i] > 0.5 ? 1 : 0;
  // No user region here, so the first region is exactly looksUnedited's edited pixels (same grid, same difference):
  // empty means unedited, without computing the difference a second time.
  return {
    width: region.width, height: region.height, mask, coverage: localizer.coverage,
    unedited: isEmpty(region), wholeFrame: localizer.global,
  };
}
