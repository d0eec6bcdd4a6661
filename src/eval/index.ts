/** The paper's automatic evaluation metrics (§4), as pure functions on [3,H,W] frames in [-1, 1]. */
export { MASK_THRESHOLD, maskFromFrame } from './frames.js';
export { ssim, videoSsim, gaussianWindow, SSIM_DATA_RANGE, type SsimOptions } from './ssim.js';
export { psnr, videoPsnr, meanSquaredError, psnrFromMse, PSNR_DATA_RANGE } from './psnr.js';
export { opticalFlow, videoFlows, flowPyramid, flowFromPyramids, FLOW_METHOD, type FlowOptions, type FlowPyramid } from '../image/flow.js';
export { endPointError, videoFlowError, maskForFlow } from './epe.js';
export {
  cosineSimilarity, clipTarget, clipSource, clipTemporal, maskImage, computeClipMetrics, MASK_FILL,
  type MaskRegion, type ClipScores, type ClipMetricsInput,
} from './clip-metrics.js';
export {
  trajectoryMatrix, trajectoryStats, aggregateTrajectoryStats, trajectoryCsv, type TrajectoryMatrix, type TrajectoryStats,
} from './trajectory.js';
export { jsonNumber, metricsToJson, type MetricsJson } from './report.js';
export { evaluateEdit, type EditEvaluationInput, type EditMetrics } from './evaluate.js';
