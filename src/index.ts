/**
 * Videoshop's library API: the engine's face (src/edit/index.ts: editVideo, exportFrame, estimateEdit, the request
 * schema, VideoshopError, EditProgress) and, for research, the method on tensors with any network implementation.
 */
export * from './edit/index.js';
export * from './tensor.js';
export { Random } from './random.js';
export type * from './models/types.js';
export * from './schedulers/euler.js';
export { runVideoshop, type VideoshopInput, type VideoshopResult, type VideoshopProgress } from './pipeline/videoshop.js';
export { DEFAULT_OPTIONS, resolveOptions, type VideoshopOptions, type VideoshopNoise } from './pipeline/options.js';
export { loadSvd, type SvdModel, type SvdLoadOptions } from './models/svd.js';
export { resolveModel } from './models/resolve.js';
