/**
 * The engine's one public face: what the CLI, the server and library users call, and nothing below it.
 *
 *   editVideo(request, { onProgress, onWarning, signal, model })   the main job, video + edited frame → video
 *   exportFrame(video, png, { index | time })                       the frame to edit, exactly as the edit reads it
 *   estimateEdit(video, options, pace)                              the plan and time of an edit before it runs
 *   inspectVideo / inspectImage                                     what a file is, read as the edit reads it
 *   previewEditRegion(frame, edited)                                the region an edit will change, before it runs
 *   loadModel(name, …)                                              a model loaded once for many edits
 *
 * The request is declared once in EDIT_FIELDS (name, type, default, range, help, label, group, preview value): the
 * CLI's options, the API's validation and GET /api/options, and the page's controls come from it. Every failure a user
 * can act on is a VideoshopError (stable `code`, the `field` at fault, `params`), worded per surface with
 * `render(cliNaming | apiNaming)`. Progress is one event type, EditProgress.
 */
export { editVideo, type EditResult, type EditHooks, type EditWarning } from './edit-video.js';
export { checkEditRequest, requestFields, PREVIEW_STEPS, type EditRequest } from './request.js';
export {
  EDIT_FIELDS, fieldSpec, defaultText, checkFieldValue, parseTime, cliNaming, apiNaming, DEFAULT_MODEL,
  type FieldSpec, type FieldType, type FieldGroup, type FieldScope, type FieldValue, type Keyframe,
} from './schema.js';
export { estimateEdit, sectionFrames, SVD_GEOMETRY, type EditEstimate, type Pace, type VideoShape } from './estimate.js';
export { checkAspect, planEdit, MAX_FRAMES, type EditPlan, type ModelGeometry } from './plan.js';
export { inspectVideo, inspectImage, type VideoSummary } from './inspect.js';
export { previewEditRegion, type EditRegionPreview } from './edit-region.js';
export { loadModel, type EditModel, type LoadModelOptions } from './model.js';
export { samplerDefaults } from './scheduler-choice.js';
export { explainFailure } from './errors.js';
export { measurePace, calibrationSide, writeSceneEdit, type MeasuredPace } from './calibrate.js';
export { type EditProgress, type EditStage } from './progress.js';
export {
  VideoshopError, isVideoshopError, msg, option, renderParts, libraryNaming, type FieldRef, type FieldNaming, type MessagePart,
  type SerializedError,
} from '../util/errors.js';
export { exportFrame, type ExportFrameOptions, type ExportedFrame } from '../video/export-frame.js';
export { createTinyModel } from '../models/tiny.js';
