/**
 * The edit request (the library's `editVideo(request)`): one flat object whose keys are the schema's fields
 * (src/edit/schema.ts) in camelCase, plus a few things only a program can pass (a weight variant, a graph cache,
 * the pipeline's own option set for research). Checked here before anything is read or loaded.
 */
import type { WeightVariant } from '../models/repository.js';
import type { BlockAnchor } from '../pipeline/anchor.js';
import { ANIMATELCM_CONFIG } from '../schedulers/animatelcm.js';
import { defaultsFor, resolveOptions, type NormalizationMode, type VideoshopOptions } from '../pipeline/options.js';
import type { Device } from '../runtime/session.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import { planEncode, type AudioChoice, type VideoCodec } from '../video/encode-args.js';
import type { ResizeMode } from '../video/read.js';
import { resolveScheduler, type SchedulerChoice } from './scheduler-choice.js';
import { checkFieldValue, EDIT_FIELDS, fieldSpec, type FieldScope, type Keyframe } from './schema.js';

export interface EditRequest {
  /** Source video (any format ffmpeg reads). */
  readonly video: string;
  /** The edited first frame (any image sharp reads). */
  readonly editedFrame: string;
  /** Output path: .mp4/.mov (H.264, or HEVC), .mkv (also FFV1, lossless), .webm (VP9 + Opus). */
  readonly output: string;
  /** Also write every output frame as PNG here. */
  readonly framesDir?: string;
  /** Replace an existing output file. */
  readonly force?: boolean;
  /**
   * Later frames edited too: each starts a block conditioned on its image (CLIP embedding, conditioning latents,
   * rescaling target, the edit's region), so the output passes through it. Time in the source's seconds from its
   * first frame (as `exportFrame({ time })`), or `frame`: a frame index; inside the section (start/duration).
   */
  readonly keyframe?: readonly (Keyframe | string)[];
  /**
   * An earlier result of this video (same frame count, rate and size): only the section (start/duration) is
   * re-edited and spliced into it, cross-faded over INTO_JOIN_FRAMES at each join (src/edit/into.ts).
   */
  readonly into?: string;
  /** An image, white where the first frame was edited (the first frame's or the video's size): added to the found region. */
  readonly mask?: string;
  /** An image of the first frame, white where nothing may change: taken out of the region the edit finds. */
  readonly keepMask?: string;
  /** Also write the per-frame masks (white: the model's pixels, black: the source's) as a video here. */
  readonly maskOut?: string;
  /**
   * Outside the edit, the output is the source's own pixels at its own resolution (src/pipeline/locality): `auto`
   * (default) unless the edit covers most of the frame, `on` always, `off` the whole frame re-rendered (the paper).
   */
  readonly keepUnedited?: 'auto' | 'on' | 'off';

  readonly strength?: number;
  readonly steps?: number;
  /** Sets minGuidance and maxGuidance. */
  readonly guidance?: number;
  readonly seed?: number;
  /** A fast look: a quarter of the default area, 13 steps unless given, the first block only. */
  readonly preview?: boolean;
  /** Processing size; default: the source's aspect ratio at about the model's native area. */
  readonly size?: { readonly width: number; readonly height: number };
  /** Edit only the frames from this time on (seconds; the first frame at or after it)… */
  readonly start?: number;
  /** …and this long (seconds; default: to the end). */
  readonly duration?: number;
  /** What to do when the edited frame's aspect ratio differs from the video's by more than 1%; default: refuse. */
  readonly fit?: 'crop' | 'pad';
  /**
   * The sampler: 'euler' (SVD's, the paper's), 'animatelcm' (AnimateLCM-SVD's few-step grid, with its own defaults:
   * ANIMATELCM_DEFAULTS) or 'auto' (default: animatelcm for an AnimateLCM UNet, by its file name; else euler).
   */
  readonly scheduler?: SchedulerChoice;
  readonly minGuidance?: number;
  readonly maxGuidance?: number;
  readonly noiseAug?: number;
  readonly motionBucket?: number;
  readonly fpsCond?: number;
  /** Σ of Eq. 6; false: always extrapolate (the paper's "− Threshold" ablation). */
  readonly threshold?: number | false;
  readonly naiveInversion?: boolean;
  readonly normalization?: NormalizationMode;
  readonly rescale?: boolean;
  /** Frames per block (default: the model's, 14 for SVD) and frames shared by consecutive blocks (default 4). */
  readonly blockFrames?: number;
  readonly blockOverlap?: number;
  /**
   * What conditions the blocks after the first (src/pipeline/anchor.ts): 'edit' (default) also the user's edited
   * frame (CLIP embedding, rescaling target) and the source outside the edit, 'chained' the previous block's frame
   * alone, as the paper's §4.2.
   */
  readonly blockAnchor?: BlockAnchor;
  readonly resize?: ResizeMode;
  readonly codec?: VideoCodec;
  readonly crf?: number;
  readonly preset?: string;
  readonly audio?: AudioChoice;

  /** Hub repo id, local diffusers folder or `toy` (default: the paper's SVD). Ignored when a loaded model is passed. */
  readonly model?: string;
  /**
   * A diffusers-keyed .safetensors file replacing the model's UNet weights: a local path or a Hub `org/name/file`
   * (checked against the model's UNet config before any large download). Ignored when a loaded model is passed.
   */
  readonly unet?: string;
  readonly device?: Device;
  readonly dtype?: 'float32' | 'float16';
  readonly threads?: number;
  /** Library only: the weight files to use (default: fp16 for float16 compute), and the folder for compiled graphs. */
  readonly variant?: WeightVariant | null;
  readonly cacheDir?: string;
  /**
   * Library only: the pipeline's own options (src/pipeline/options.ts), for research: the paper's variants that have
   * no field (thresholdNoise, rescaleFormula, normalizeInversionConditioning) and fixed noise tensors. The fields
   * above take precedence over the same option here.
   */
  readonly method?: Partial<Omit<VideoshopOptions, 'scheduler'>>;
  /** Same as `editVideo`'s hooks.signal. */
  readonly signal?: AbortSignal;
}

const LIBRARY_ONLY = new Set(['variant', 'cacheDir', 'method', 'signal']);

/** Steps of a preview (the full run's default is 25; ⌊13·0.55⌋ = 7 run). */
export const PREVIEW_STEPS = fieldSpec('steps')!.preview as number;

/**
 * Options given by name (the CLI's flags, the API's JSON: `{"min-guidance": 3}`, camelCase accepted) → request
 * fields, each checked by the schema. Only fields of the given scopes are accepted; null and '' mean "the default".
 */
export function requestFields(raw: Record<string, unknown>, scopes: readonly FieldScope[]): Partial<EditRequest> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const spec = fieldSpec(name);
    if (!spec || !scopes.includes(spec.scope)) {
      const known = EDIT_FIELDS.filter((f) => scopes.includes(f.scope)).map((f) => f.name);
      throw new VideoshopError('bad_option', `unknown option "${name}": the options are ${known.join(', ')}`, { params: { name } });
    }
    if (value === null || value === undefined || value === '') continue;
    out[spec.key] = checkFieldValue(spec, value);
  }
  return out as Partial<EditRequest>;
}

/** What an edit runs with, resolved from the request: the method's options, every value checked. */
export interface CheckedRequest extends EditRequest {
  /** The keyframes in their one form ({time | frame, image}). */
  readonly keyframe?: readonly Keyframe[];
  readonly methodOptions: Omit<VideoshopOptions, 'scheduler'>;
}

/**
 * Every check that needs no file and no model: known keys, each field's type and range, and what fields say
 * together (overlap within half a block, strength × steps running a step, codec/crf/preset fitting the output's
 * container). Throws VideoshopError('bad_option') naming the field.
 */
export function checkEditRequest(request: EditRequest): CheckedRequest {
  if (typeof request !== 'object' || request === null) throw new VideoshopError('bad_input', 'the edit request must be an object');
  for (const [key, value] of Object.entries(request)) {
    if (LIBRARY_ONLY.has(key) || value === undefined) continue;
    const spec = fieldSpec(key);
    if (!spec || spec.key !== key) throw new VideoshopError('bad_option', `unknown option "${key}"`, { params: { name: key } });
    checkFieldValue(spec, value);
  }
  for (const spec of EDIT_FIELDS) {
    if (spec.required && (request as unknown as Record<string, unknown>)[spec.key] === undefined) {
      throw new VideoshopError('bad_option', msg`${option(spec.name)} is required`, { field: spec.name });
    }
  }
  const r = request;
  if (r.blockOverlap !== undefined && r.blockFrames !== undefined) checkOverlap(r.blockOverlap, r.blockFrames);
  const methodOptions = resolveMethod(r);
  // The codec, crf and preset against the output's container (the size is not known yet; any even one will do).
  planEncode(r.output, 64, 64, { codec: r.codec, crf: r.crf, preset: r.preset, audio: r.audio });
  const keyframe = r.keyframe === undefined ? undefined : checkFieldValue(fieldSpec('keyframe')!, r.keyframe) as readonly Keyframe[];
  if (r.into !== undefined && (r.framesDir !== undefined || r.maskOut !== undefined)) {
    throw new VideoshopError('bad_option', msg`${option('into')} writes the whole video again: ${option(r.framesDir !== undefined ? 'frames-dir' : 'mask-out')} is not available with it`,
      { field: 'into' });
  }
  return { ...r, keyframe, methodOptions };
}

export function checkOverlap(overlap: number, blockFrames: number): void {
  if (!(overlap >= 1 && overlap <= blockFrames / 2)) {
    throw new VideoshopError('bad_option',
      msg`${option('block-overlap')} ${overlap}: must be between 1 and half the block (${Math.floor(blockFrames / 2)} frames)`,
      { field: 'block-overlap', params: { value: overlap, max: Math.floor(blockFrames / 2) } });
  }
}

const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The pipeline's options from the request's fields (over `method`), with the preview's steps (Euler's: AnimateLCM's
 * default steps are already fewer) and the sampler's defaults for what is not given.
 */
function resolveMethod(r: EditRequest): Omit<VideoshopOptions, 'scheduler'> {
  // Under auto, the UNet file that replaces the model's names the sampler (AnimateLCM's files), else the model's name.
  const sampler = r.method?.sampler && r.scheduler === undefined
    ? r.method.sampler
    : resolveScheduler(r.scheduler, r.unet ?? r.model);
  const defaults = defaultsFor(sampler);
  const steps = r.steps ?? r.method?.steps ?? (r.preview && sampler === 'euler' ? PREVIEW_STEPS : undefined);
  const strength = r.strength ?? r.method?.strength;
  const maxSteps = ANIMATELCM_CONFIG.numTrainTimesteps;
  if (sampler === 'animatelcm' && steps !== undefined && steps > maxSteps) {
    throw new VideoshopError('bad_option',
      msg`${option('steps')} ${steps}: the animatelcm scheduler takes at most ${maxSteps} steps (the noise levels it was distilled on)`,
      { field: 'steps', params: { steps, max: maxSteps } });
  }
  const fromFields = defined({
    sampler, steps, strength,
    minGuidance: r.guidance ?? r.minGuidance, maxGuidance: r.guidance ?? r.maxGuidance,
    seed: r.seed, noiseAug: r.noiseAug, motionBucket: r.motionBucket, fps: r.fpsCond,
    threshold: r.threshold === false ? null : r.threshold,
    inversion: r.naiveInversion === undefined ? undefined : r.naiveInversion ? 'naive' as const : 'extrapolated' as const,
    normalization: r.normalization, rescale: r.rescale,
  });
  let resolved: VideoshopOptions;
  try {
    resolved = resolveOptions({ ...defined(r.method ?? {}), ...fromFields });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    // Only the cross-field rule and `method` values get here: the fields were checked by the schema.
    if (/runs no step/.test(err.message)) {
      throw new VideoshopError('bad_option',
        msg`${option('strength')} ${strength ?? defaults.strength} of ${steps ?? defaults.steps} steps runs no step: raise ${option('strength')} or ${option('steps')}`,
        { field: 'strength', params: { strength, steps } });
    }
    throw new VideoshopError('bad_option', `method: ${err.message}`, { cause: err });
  }
  const { scheduler: _scheduler, ...rest } = resolved;
  return rest;
}
