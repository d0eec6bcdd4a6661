export * from './types.js';
export { sampleScene, SCENE_DEFAULTS, type SceneOptions } from './sample.js';
export { renderScene, objectPose } from './render.js';
export { applyEdit, sampleEdit, editedObject } from './edits.js';
export { clipToTensor, maskToTensor, editedRegion } from './tensors.js';
export { HELD_OUT_SEED_BASE, heldOutScene } from './held-out.js';
