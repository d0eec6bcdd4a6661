/**
 * What a shell needs to know about the files of an edit before it queues one, read by the same code the edit reads
 * with: a video's shape (ffprobe), an image's size under the same pixel budget.
 */
import sharp, { type Metadata } from 'sharp';
import { isVideoshopError, VideoshopError } from '../util/errors.js';
import { MAX_IMAGE_PIXELS } from '../video/image.js';
import { probeVideo } from '../video/probe.js';

export interface VideoSummary {
  /** Display size (rotation applied), as the edit reads the frames. */
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
  readonly durationSeconds: number;
  readonly hasAudio: boolean;
  /** Variable frame rate (every frame keeps its own time in the output). */
  readonly vfr: boolean;
}

/** ffprobe's view of a video; a VideoshopError saying why it is not one, calling the file `name` (a server names no path). */
export async function inspectVideo(file: string, name = file): Promise<VideoSummary> {
  let info;
  try {
    info = await probeVideo(file);
  } catch (err) {
    if (!isVideoshopError(err) || name === file) throw err;
    throw new VideoshopError(err.code, err.parts.map((p) => (typeof p === 'string' ? p.replaceAll(file, name) : p)), { field: err.field, params: err.params });
  }
  return { width: info.width, height: info.height, frames: info.frameCount, fps: info.fpsValue, durationSeconds: info.durationSeconds,
    hasAudio: info.hasAudio, vfr: info.vfr };
}

const IMAGE_FORMATS = new Set(['png', 'jpeg', 'webp', 'tiff', 'gif', 'avif', 'heif']);

/** An image's size and format from its header (nothing decoded), within the budget the edit decodes under. */
export async function inspectImage(file: string, name = file): Promise<{ width: number; height: number; format: string }> {
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch {
    throw new VideoshopError('bad_input', `${name} is not an image (png, jpg, webp…)`);
  }
  if (!meta.format || !IMAGE_FORMATS.has(meta.format) || !meta.width || !meta.height) {
    throw new VideoshopError('bad_input', `${name}: unsupported image format ${meta.format ?? 'unknown'}; use png, jpg or webp`);
  }
  if (meta.width * meta.height > MAX_IMAGE_PIXELS) {
    throw new VideoshopError('image_too_large',
      `${meta.width}×${meta.height} is over ${MAX_IMAGE_PIXELS / 1e6} megapixels; scale it down to the video's size`,
      { params: { width: meta.width, height: meta.height, max: MAX_IMAGE_PIXELS } });
  }
  return { width: meta.width, height: meta.height, format: meta.format };
}
