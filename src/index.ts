/** Videoshop's library API. */
export * from './tensor.js';
export { Random } from './random.js';
export type * from './models/types.js';
export * from './schedulers/euler.js';
export { editVideo, type EditProgress, type EditResult, type EditHooks } from './edit/edit-video.js';
export type { EditOptions } from './edit/options.js';
export { runVideoshop, type VideoshopInput, type VideoshopResult, type VideoshopProgress } from './pipeline/videoshop.js';
export { DEFAULT_OPTIONS, resolveOptions, type VideoshopOptions, type VideoshopNoise } from './pipeline/options.js';
export { loadSvd, DEFAULT_MODEL, type SvdModel, type SvdLoadOptions } from './models/svd.js';
export { createTinyModel } from './models/tiny.js';
export { resolveModel } from './models/resolve.js';
