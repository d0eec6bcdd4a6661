/** Localized editing: where the edit is in every frame, and compositing that keeps everything else the source's. */
export { EditLocalizer, looksUnedited, maskGrid, GRID_SIDE, type LocalizeOptions } from './localize.js';
export { compositeFrame, featherAlpha } from './composite.js';
export { editedPixels, editDifference, departure, LOCALITY_PARAMS, pixels, type LocalityParams } from './edit-region.js';
export { colourDistance } from './difference.js';
export { carryMask, warpMask, FlowTracker } from './track.js';
export * from './mask.js';
