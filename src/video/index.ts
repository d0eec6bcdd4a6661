/** Video and image I/O: ffmpeg for video, sharp for images. */
export { ffmpegPath, ffprobePath, fileArg } from './ffmpeg.js';
export { probeVideo, probeAudioCodec, type VideoInfo, type Rational } from './probe.js';
export { readFrames, readFramesRGB8, SCALE_FLAGS, type ReadOptions, type ResizeMode, type FrameRange, type Rgb8Frame } from './read.js';
export { yuvMatrix, yuvRange, toRgbFilter } from './colour.js';
export { writeVideo, evenSize, assertNotInput, type WriteOptions, type WriteResult } from './write.js';
export { writeFramesPng, type FramesPngOptions } from './frames-png.js';
export { readImage, fitImage, type RgbImage, type FitMode } from './image.js';
export { processingSize, aspectMismatch, type ProcessingSizeOptions } from './size.js';
export { resizeImage } from '../image/resize.js';
export { rgb8ToChw, chwToRgb8 } from './pixels.js';
export { planEncode, containerFor, planAudio, VIDEO_CODECS, AUDIO_CHOICES, type VideoCodec, type AudioChoice, type AudioResult, type Container } from './encode-args.js';
export { frameTimes, segmentFrames, frameTime, type FrameTimes } from './timing.js';
export { exportFrame, type ExportFrameOptions, type ExportedFrame } from './export-frame.js';
