/** Options of `editVideo` / `videoshop edit`, with their defaults and validation. */
import type { WeightVariant } from '../models/repository.js';
import type { VideoshopOptions } from '../pipeline/options.js';
import type { Device } from '../runtime/session.js';
import type { AudioChoice, VideoCodec } from '../video/encode-args.js';
import type { FitMode } from '../video/image.js';
import type { ResizeMode } from '../video/read.js';

export interface EditOptions {
  /** Source video (any format ffmpeg reads). */
  readonly video: string;
  /** The edited first frame (any image sharp reads). */
  readonly editedFrame: string;
  /** Output path: .mp4/.mov (H.264, or HEVC), .mkv (also FFV1, lossless), .webm (VP9 + Opus). */
  readonly output: string;
  /** Hub repo id or local diffusers folder (default: the paper's SVD). */
  readonly model?: string;
  readonly device?: Device;
  readonly dtype?: 'float32' | 'float16';
  readonly variant?: WeightVariant | null;
  /** Processing size; default: the source's aspect ratio at about the model's native area, sides multiples of 64. */
  readonly size?: { readonly width: number; readonly height: number };
  /** What to do when the edited frame's aspect ratio differs from the video's by more than 1%; default: refuse. */
  readonly fit?: Exclude<FitMode, 'stretch'>;
  /** Replace an existing output file. */
  readonly force?: boolean;
  /** Also write every output frame as PNG here. */
  readonly framesDir?: string;
  /** Frames per block (default: the model's frame count, 14 for SVD). */
  readonly blockFrames?: number;
  /** Minimum frames shared by consecutive blocks, cross-faded (default 4). */
  readonly blockOverlap?: number;
  /** The method's options (steps, strength, guidance, seed, ablations…). */
  readonly method?: Partial<Omit<VideoshopOptions, 'scheduler'>>;
  /** Edit only the frames from this time on (seconds; the first frame at or after it). */
  readonly start?: number;
  /** …and this long (seconds; default: to the end). */
  readonly duration?: number;
  /** How source frames are resized to the processing size (default `fast`; `antialias` is the reference's filter). */
  readonly resize?: ResizeMode;
  /** Output codec, quality and audio (see src/video/encode-args.ts). */
  readonly codec?: VideoCodec;
  readonly crf?: number;
  readonly preset?: string;
  readonly audio?: AudioChoice;
  /** Folder for compiled graphs. */
  readonly cacheDir?: string;
  readonly threads?: number;
  /**
   * A fast look before the full run: processing at a quarter of the default area (each side about halved) and the
   * first block only. The CLI also halves the steps (PREVIEW_STEPS) unless they are given.
   */
  readonly preview?: boolean;
  readonly signal?: AbortSignal;
}

/** Steps of a preview (the full run's default is 25; ⌊13·0.55⌋ = 7 run). */
export const PREVIEW_STEPS = 13;
/** Share of the default processing area a preview uses. */
export const PREVIEW_AREA = 0.25;

export const DEFAULT_BLOCK_OVERLAP = 4;
/** Aspect ratios closer than this are stretched silently (rounding of sizes); beyond it the user must choose. */
export const ASPECT_TOLERANCE = 0.01;
