/**
 * The region an edit will change, before it runs: what the page overlays on the frame before Render, and the warnings
 * that can be known then (the edited frame looks unedited; the edit covers so much that `keep-unedited auto` will
 * re-render the whole frame). The same localizer as the edit's first frame (pipeline/locality), on the source's
 * first frame as exported and the edited frame as given.
 */
import { EditLocalizer } from '../pipeline/locality/index.js';
import { fitImage, readImage } from '../video/image.js';
import { userMaskOf } from './keep-unedited.js';

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

/**
 * `sourceFrame`: the video's frame as exportFrame wrote it; `editedFrame`: the user's image (scaled to it if needed);
 * `marks`: the regions the user marked as edited (`mask`) and as unedited (`keepMask`), images of either size, white
 * where marked, as the edit takes them.
 */
export async function previewEditRegion(
  sourceFrame: string, editedFrame: string, marks: { mask?: string; keepMask?: string } = {},
): Promise<EditRegionPreview> {
  const source = await readImage(sourceFrame);
  const given = await readImage(editedFrame);
  const [, h, w] = source.dims;
  const edited = given.dims[1] !== h || given.dims[2] !== w ? fitImage(given, w, h) : given;
  const mark = async (file: string | undefined, field: 'mask' | 'keep-mask') =>
    file === undefined ? undefined : userMaskOf(await readImage(file), file, given, source, field);
  const localizer = new EditLocalizer(source, edited, { userMask: await mark(marks.mask, 'mask'), keepMask: await mark(marks.keepMask, 'keep-mask') });
  const region = localizer.firstRegion;
  const mask = new Uint8Array(region.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = region.data[i] > 0.5 ? 1 : 0;
  return {
    width: region.width, height: region.height, mask, coverage: localizer.coverage,
    unedited: localizer.unedited, wholeFrame: localizer.global,
  };
}
