/**
 * The edit request, declared once: every field's name, type, default, range, help, label and group. The CLI builds
 * its options from it (src/cli/edit.ts), the server validates jobs with it and serves it as GET /api/options, and the
 * page renders its controls from that. A value is checked here, by the same function, whichever surface it came from.
 *
 * Names: `name` is the CLI's flag without `--` and the API's option name (`block-overlap`); the library's request key
 * is its camelCase (`blockOverlap`). Field references in error messages (src/util/errors.ts) use `name`.
 */
import { DEFAULT_MODEL } from '../models/svd.js';
import { BLOCK_ANCHOR_NAMES, DEFAULT_BLOCK_ANCHOR } from '../pipeline/anchor.js';
import { ANIMATELCM_DEFAULTS } from '../pipeline/options.js';
import { msg, option, VideoshopError, type FieldNaming, type FieldRef } from '../util/errors.js';
import { AUDIO_CHOICES, VIDEO_CODECS, X26X_PRESETS } from '../video/encode-args.js';

/** `scheduler`: the sampler, or `auto` (src/edit/scheduler-choice.ts). */
export const SCHEDULER_CHOICES = ['auto', 'euler', 'animatelcm'] as const;

/** libvpx's own speeds, which vp9 takes as a preset too. */
const VP9_SPEEDS = ['0', '1', '2', '3', '4', '5', '6', '7', '8'];

export type FieldType = 'number' | 'integer' | 'boolean' | 'choice' | 'size' | 'time' | 'text' | 'path' | 'keyframes';

/**
 * A later frame the user edited too (`keyframe`): where it is in the source, by time (seconds from the first frame,
 * what `videoshop frame --time` exports) or by frame index (`#N`, what `frame --index` exports), and its image.
 */
export interface Keyframe {
  readonly time?: number;
  readonly frame?: number;
  readonly image: string;
}
/** basic: what most edits touch; expert: the paper's ablations, codecs, block geometry. */
export type FieldGroup = 'basic' | 'expert';
/**
 * input: the files of one edit (the server chooses them for a job); runtime: how the model runs (fixed by whoever
 * loads it: a CLI run, or `videoshop serve`); job: what any edit may set, on every surface.
 */
export type FieldScope = 'input' | 'runtime' | 'job';

export interface FieldSpec {
  readonly name: string;
  /** The request's key (camelCase of `name`). */
  readonly key: string;
  readonly type: FieldType;
  /** In words a video editor uses (the page's label). */
  readonly label: string;
  readonly help: string;
  readonly group: FieldGroup;
  readonly scope: FieldScope;
  /** The constant default; null when it depends on the video or the model (then `defaultText` says how). */
  readonly default: number | string | boolean | null;
  readonly defaultText?: string;
  /** Numbers: inclusive bounds, unless `exclusiveMin`. Sizes: bounds of each side. Times: seconds. */
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly choices?: readonly string[];
  /** A number that can also be switched off with `false` (the CLI's `--no-<name>`): what off means. */
  readonly offHelp?: string;
  /** The value a preview (`preview: true`) uses when the field is not given. */
  readonly preview?: number | string | boolean;
  /** The CLI's placeholder (`--steps <n>`) and short flag. */
  readonly placeholder?: string;
  readonly short?: string;
  readonly required?: boolean;
}

export { DEFAULT_MODEL };

type Spec = Omit<FieldSpec, 'key'>;

const FIELDS: readonly Spec[] = [
  // --- the files of one edit
  { name: 'video', type: 'path', label: 'Video', scope: 'input', group: 'basic', default: null, required: true,
    help: 'source video (any format ffmpeg reads: mp4, mov, webm, avi, gif…)' },
  { name: 'edited-frame', type: 'path', label: 'Edited frame', scope: 'input', group: 'basic', default: null, required: true, short: 'e',
    placeholder: 'image', help: 'the first frame, edited in any image editor (png, jpg, webp…)' },
  { name: 'output', type: 'path', label: 'Output', scope: 'input', group: 'basic', default: null, required: true, short: 'o', placeholder: 'file',
    help: 'where to write the edited video: .mp4/.mov (H.264), .mkv, .webm (VP9); source size, timing, colour and audio' },
  { name: 'frames-dir', type: 'path', label: 'Frames folder', scope: 'input', group: 'expert', default: null, placeholder: 'dir',
    help: 'also write every output frame as PNG into this folder' },
  { name: 'force', type: 'boolean', label: 'Replace the output', scope: 'input', group: 'basic', default: false,
    help: 'replace the output file if it exists' },
  { name: 'keyframe', type: 'keyframes', label: 'Later edited frames', scope: 'input', group: 'basic', default: null, placeholder: 'T=image',
    help: 'a later frame, edited too: T is its time in the source (seconds or [h:]m:s, as `videoshop frame --time` exports it) ' +
      'or #N its frame index; from that frame on the edit follows this image (repeatable)' },
  { name: 'into', type: 'path', label: 'Re-render into', scope: 'input', group: 'expert', default: null, placeholder: 'file',
    help: 'an earlier result of this video: re-edit only the section (start/duration) and write that result with the section ' +
      'replaced, cross-faded over a few frames at each join; everything else, audio and timing as they were' },
  { name: 'mask', type: 'path', label: 'Edited region', scope: 'input', group: 'expert', default: null, placeholder: 'image',
    help: 'an image of the first frame\'s size (or the video\'s) that is white where you edited: added to the region found by comparing the frames' },
  { name: 'keep-mask', type: 'path', label: 'Unedited region', scope: 'input', group: 'expert', default: null, placeholder: 'image',
    help: 'an image of the first frame\'s size (or the video\'s) that is white where nothing may change: taken out of the edited region (it wins over mask)' },
  { name: 'mask-out', type: 'path', label: 'Mask video', scope: 'input', group: 'expert', default: null, placeholder: 'file',
    help: 'also write the per-frame masks as a video: white where the output is the model\'s, black where it is the source\'s own pixels' },

  // --- what the edit does
  { name: 'strength', type: 'number', label: 'How much may change', scope: 'job', group: 'basic', default: 0.55, min: 0, max: 1, exclusiveMin: true,
    placeholder: 's', help: 'share of the noise schedule inverted and re-generated: higher lets the edit change more, lower keeps more of the source' },
  { name: 'steps', type: 'integer', label: 'Steps', scope: 'job', group: 'basic', default: 25, min: 1, max: 1000, preview: 13, placeholder: 'n',
    help: 'steps of the full schedule (⌊steps·strength⌋ of them run): more is slower and finer' },
  { name: 'guidance', type: 'number', label: 'Guidance', scope: 'job', group: 'basic', default: null, defaultText: 'min-guidance … max-guidance',
    min: 0, max: 50, placeholder: 'g', help: 'how strongly every frame follows the edited frame (sets min- and max-guidance; ≤ 1 turns guidance off)' },
  { name: 'seed', type: 'integer', label: 'Variation', scope: 'job', group: 'basic', default: 42, min: 0, max: Number.MAX_SAFE_INTEGER, placeholder: 'n',
    help: 'seed of every random draw: another seed gives another variation of the same edit' },
  { name: 'preview', type: 'boolean', label: 'Quick preview', scope: 'job', group: 'basic', default: false,
    help: 'a fast look before the full run: a quarter of the pixels, 13 steps (unless steps are given), the first block only' },
  { name: 'size', type: 'size', label: 'Processing size', scope: 'job', group: 'basic', default: null, min: 16, max: 131072, placeholder: 'WxH',
    defaultText: "the source's aspect ratio at about the model's native area (1024×576 for SVD)",
    help: 'the size the model works at, sides multiples of 64 for SVD: larger is sharper, slower and needs more memory' },
  { name: 'start', type: 'time', label: 'Start', scope: 'job', group: 'basic', default: null, defaultText: 'the first frame', min: 0, placeholder: 'time',
    help: 'edit from this time on (seconds or [h:]m:s); the first frame at or after it is the one to edit' },
  { name: 'duration', type: 'time', label: 'Duration', scope: 'job', group: 'basic', default: null, defaultText: 'to the end', min: 0, exclusiveMin: true,
    placeholder: 'time', help: 'edit only this long (seconds or [h:]m:s)' },
  { name: 'keep-unedited', type: 'choice', label: 'Keep unedited pixels', scope: 'job', group: 'basic', default: 'auto', choices: ['auto', 'on', 'off'],
    placeholder: 'mode', help: "what the edit did not touch stays the source's own pixels, at its full resolution (auto: unless the edit " +
      "covers most of the frame; on: always; off: the whole frame is re-rendered, the paper's method)" },
  { name: 'fit', type: 'choice', label: 'Frame of another shape', scope: 'job', group: 'basic', default: null, choices: ['crop', 'pad'], placeholder: 'mode',
    defaultText: 'refuse', help: "when the edited frame's aspect ratio differs from the video's by more than 1%: crop or pad it" },

  // --- the method, for experts (the paper's ablations among them)
  { name: 'scheduler', type: 'choice', label: 'Sampler', scope: 'job', group: 'expert', default: 'auto', choices: SCHEDULER_CHOICES,
    placeholder: 'name', help: "the noise schedule inverted and re-generated on: euler (SVD's, the paper's), animatelcm (AnimateLCM-SVD's " +
      `few-step grid; unless given: ${ANIMATELCM_DEFAULTS.steps} steps, strength ${ANIMATELCM_DEFAULTS.strength}, guidance ` +
      `${ANIMATELCM_DEFAULTS.maxGuidance}, threshold ${ANIMATELCM_DEFAULTS.threshold}, one UNet call per step) or auto (animatelcm for an ` +
      'AnimateLCM UNet file, else euler)' },
  { name: 'min-guidance', type: 'number', label: 'Guidance, first frame', scope: 'job', group: 'expert', default: 4, min: 0, max: 50, placeholder: 'g',
    help: 'guidance on the first frame, ramping linearly to max-guidance on the last' },
  { name: 'max-guidance', type: 'number', label: 'Guidance, last frame', scope: 'job', group: 'expert', default: 4, min: 0, max: 50, placeholder: 'g',
    help: 'guidance on the last frame (≤ 1 turns guidance off)' },
  { name: 'noise-aug', type: 'number', label: 'Conditioning noise', scope: 'job', group: 'expert', default: 0.2, min: 0, max: 10, placeholder: 'a',
    help: 'noise added to the conditioning frame (SVD\'s noise augmentation)' },
  { name: 'motion-bucket', type: 'integer', label: 'Motion amount', scope: 'job', group: 'expert', default: 127, min: 0, max: 1023, placeholder: 'n',
    help: 'SVD motion bucket id (more: more motion)' },
  { name: 'fps-cond', type: 'number', label: 'Frame rate hint', scope: 'job', group: 'expert', default: 7, min: 1, max: 240, placeholder: 'n',
    help: 'frame rate SVD is conditioned on (7, as the reference)' },
  { name: 'threshold', type: 'number', label: 'Inversion threshold Σ', scope: 'job', group: 'expert', default: 1, min: 0, max: 1000, placeholder: 'sigma',
    help: 'noise level Σ below which inversion adds fresh noise instead of extrapolating (paper Eq. 6)',
    offHelp: 'ablation: always extrapolate (divides by σ = 0: NaN, as the paper\'s Table 5)' },
  { name: 'naive-inversion', type: 'boolean', label: 'Naive inversion (ablation)', scope: 'job', group: 'expert', default: false,
    help: 'ablation: invert without noise extrapolation (paper Eq. 5)' },
  { name: 'normalization', type: 'choice', label: 'Latent normalization', scope: 'job', group: 'expert', default: 'per-frame-centered',
    choices: ['per-frame-centered', 'per-channel', 'none'], placeholder: 'mode',
    help: "latent normalization before inversion (per-frame-centered: the reference's; per-channel: the paper's; none: ablation)" },
  { name: 'rescale', type: 'boolean', label: 'Rescale latents', scope: 'job', group: 'expert', default: true,
    help: 'rescale the output latents to the edited frame\'s statistics (off: the paper\'s ablation)' },
  { name: 'block-frames', type: 'integer', label: 'Frames per block', scope: 'job', group: 'expert', default: null, min: 2, max: 256, placeholder: 'n',
    defaultText: "the model's (14 for SVD)", help: 'frames per block for long videos' },
  { name: 'block-overlap', type: 'integer', label: 'Block overlap', scope: 'job', group: 'expert', default: null, min: 1, max: 128, placeholder: 'n',
    defaultText: '4, at most half a block', help: 'frames shared and cross-faded by consecutive blocks (at most half a block)' },
  { name: 'block-anchor', type: 'choice', label: 'Later blocks follow', scope: 'job', group: 'expert', default: DEFAULT_BLOCK_ANCHOR,
    choices: BLOCK_ANCHOR_NAMES, placeholder: 'mode',
    help: "what conditions each block after the first of a long video: edit (the previous block's frame, the source's pixels " +
      "where the edit left it unchanged, and the edited frame's look and latent statistics, so the edit does not fade) " +
      "or chained (the previous block's frame alone, the paper's §4.2)" },
  { name: 'resize', type: 'choice', label: 'Resizing', scope: 'job', group: 'expert', default: 'fast', choices: ['fast', 'antialias'], placeholder: 'mode',
    help: "resizing to the processing size: fast (swscale bilinear, within 0.02 levels of the reference's at SVD's size from 1080p) " +
      "or antialias (the reference's antialiased bilinear, exact)" },
  { name: 'codec', type: 'choice', label: 'Codec', scope: 'job', group: 'expert', default: null, choices: VIDEO_CODECS,
    placeholder: 'codec', defaultText: 'h264; vp9 for .webm', help: 'output codec (ffv1 = lossless, .mkv only)' },
  { name: 'crf', type: 'integer', label: 'Quality (CRF)', scope: 'job', group: 'expert', default: null, min: 0, max: 63, placeholder: 'n',
    defaultText: '18 h264, 20 hevc, 31 vp9', help: 'constant rate factor: lower is better and larger (h264/hevc 0–51, vp9 0–63)' },
  { name: 'preset', type: 'choice', label: 'Encoder speed', scope: 'job', group: 'expert', default: 'medium',
    choices: [...X26X_PRESETS, ...VP9_SPEEDS], placeholder: 'name',
    help: 'encoder preset: ultrafast … veryslow (vp9 also a libvpx speed 0–8)' },
  { name: 'audio', type: 'choice', label: 'Audio', scope: 'job', group: 'expert', default: 'copy', choices: AUDIO_CHOICES, placeholder: 'mode',
    help: "the source's audio: copy (re-encoded if the container can't hold it), aac, none" },

  // --- how the model runs
  { name: 'model', type: 'text', label: 'Model', scope: 'runtime', group: 'basic', default: DEFAULT_MODEL, placeholder: 'id|folder',
    help: 'Hugging Face repo id, local diffusers folder, or toy (the small model shipped with Videoshop)' },
  { name: 'unet', type: 'text', label: 'UNet weights', scope: 'runtime', group: 'expert', default: null, placeholder: 'file|hub-id/file',
    defaultText: "the model's own",
    help: "replace the model's UNet weights with one diffusers-keyed .safetensors file (a UNet-only fine-tune, e.g. " +
      'wangfuyun/AnimateLCM-SVD-xt/AnimateLCM-SVD-xt.safetensors): a local file or a Hub org/name/file, checked against the model before downloading' },
  { name: 'device', type: 'choice', label: 'Device', scope: 'runtime', group: 'basic', default: 'cpu', choices: ['cpu', 'cuda', 'webgpu'],
    placeholder: 'device', help: 'where the networks run' },
  { name: 'dtype', type: 'choice', label: 'Precision', scope: 'runtime', group: 'expert', default: null, choices: ['float32', 'float16'],
    placeholder: 'type', defaultText: 'float32 on cpu, float16 on GPUs', help: 'compute precision' },
  { name: 'threads', type: 'integer', label: 'CPU threads', scope: 'runtime', group: 'expert', default: null, min: 1, max: 1024, placeholder: 'n',
    defaultText: 'all physical cores', help: 'CPU threads for the networks' },
];

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export const EDIT_FIELDS: readonly FieldSpec[] = Object.freeze(FIELDS.map((f) => Object.freeze({ ...f, key: camel(f.name) })));

const BY_NAME = new Map(EDIT_FIELDS.map((f) => [f.name, f]));
const BY_KEY = new Map(EDIT_FIELDS.map((f) => [f.key, f]));

/** A field by its name (`block-overlap`) or key (`blockOverlap`). */
export function fieldSpec(nameOrKey: string): FieldSpec | undefined {
  return BY_NAME.get(nameOrKey) ?? BY_KEY.get(nameOrKey);
}

/** The default as words (for help texts and the page's placeholders). */
export function defaultText(spec: FieldSpec): string | undefined {
  if (spec.default === null) return spec.defaultText;
  return spec.default === true ? 'on' : spec.default === false ? 'off' : String(spec.default);
}

// --- how each surface names a field in a message (see src/util/errors.ts) -----------------------------------------

/** The CLI: `--steps`, `--fit crop`, `--force`, `--no-rescale`. */
export const cliNaming: FieldNaming = (ref: FieldRef) => {
  if (ref.value === undefined || ref.value === true) return `--${ref.field}`;
  if (ref.value === false) return `--no-${ref.field}`;
  return `--${ref.field} ${ref.value}`;
};

/** The HTTP API and its JSON: `steps`, `fit: "crop"`. */
export const apiNaming: FieldNaming = (ref: FieldRef) =>
  ref.value === undefined ? ref.field : `${ref.field}: ${JSON.stringify(ref.value)}`;

// --- values -----------------------------------------------------------------------------------------------------

export type FieldValue = number | string | boolean | { width: number; height: number } | readonly Keyframe[];

function badValue(spec: FieldSpec, what: string, value: unknown): VideoshopError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  return new VideoshopError('bad_option', msg`${option(spec.name)} must be ${what}, got ${shown}`, { field: spec.name, params: { value } });
}

function range(spec: FieldSpec): string {
  const lo = spec.min === undefined ? undefined : `${spec.exclusiveMin ? '(' : '['}${spec.min}`;
  const hi = spec.max === undefined || spec.max === Number.MAX_SAFE_INTEGER ? undefined : `${spec.max}]`;
  if (lo && hi) return `in ${lo}, ${hi}`;
  if (lo) return spec.exclusiveMin ? `> ${spec.min}` : `≥ ${spec.min}`;
  return hi ? `≤ ${spec.max}` : '';
}

function checkRange(spec: FieldSpec, n: number, kind: string, value: unknown): void {
  const low = spec.min !== undefined && (spec.exclusiveMin ? !(n > spec.min) : !(n >= spec.min));
  const high = spec.max !== undefined && !(n <= spec.max);
  if (low || high) throw badValue(spec, `${kind} ${range(spec)}`.trim(), value);
}

/** `12.5`, `1:02.5` (m:s) or `1:00:02` (h:m:s) → seconds; undefined when it is none of these. */
export function parseTime(text: string): number | undefined {
  const parts = text.trim().split(':');
  const ok = parts.length <= 3 && parts.every((p, i) => (i === parts.length - 1 ? /^\d+(\.\d+)?$/ : /^\d+$/).test(p));
  return ok ? parts.reduce((acc, p) => acc * 60 + Number(p), 0) : undefined;
}

/**
 * Checks one value of a field and returns it in the request's form: numbers as numbers, sizes as {width, height},
 * times as seconds. Text (a CLI argument, a form field) is parsed; JSON values are taken as they are. Throws
 * VideoshopError('bad_option') naming the field.
 */
export function checkFieldValue(spec: FieldSpec, value: unknown): FieldValue {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (value === false && spec.offHelp) return false;
      const integer = spec.type === 'integer';
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
        throw badValue(spec, `${integer ? 'an integer' : 'a number'}${range(spec) ? ` ${range(spec)}` : ''}${spec.offHelp ? ' (or false: off)' : ''}`, value);
      }
      checkRange(spec, n, integer ? 'an integer' : 'a number', value);
      return n;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw badValue(spec, 'true or false', value);
    case 'choice': {
      const text = typeof value === 'number' ? String(value) : value;
      if (typeof text !== 'string' || !spec.choices?.includes(text)) throw badValue(spec, `one of ${spec.choices?.join(', ')}`, value);
      return text;
    }
    case 'size': {
      let size: { width: number; height: number } | undefined;
      if (typeof value === 'string') {
        const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/.exec(value);
        if (m) size = { width: Number(m[1]), height: Number(m[2]) };
      } else if (typeof value === 'object' && value !== null && Object.keys(value).length === 2) {
        const { width, height } = value as { width?: unknown; height?: unknown };
        if (typeof width === 'number' && typeof height === 'number') size = { width, height };
      }
      const side = `a size WxH with whole sides ${range(spec).replace(/^in /, '')}, like 1024x576`;
      if (!size || !Number.isInteger(size.width) || !Number.isInteger(size.height)) throw badValue(spec, side, value);
      for (const s of [size.width, size.height]) if (!(s >= (spec.min ?? 1) && s <= (spec.max ?? Infinity))) throw badValue(spec, side, value);
      return size;
    }
    case 'time': {
      const t = typeof value === 'number' ? value : typeof value === 'string' ? parseTime(value) ?? NaN : NaN;
      if (!Number.isFinite(t)) throw badValue(spec, 'seconds (12.5) or [h:]m:s (1:02.5)', value);
      checkRange(spec, t, 'a time', value);
      return t;
    }
    case 'keyframes':
      return (Array.isArray(value) ? value : [value]).map((k) => checkKeyframe(spec, k));
    case 'text':
    case 'path':
      if (typeof value !== 'string' || value === '') throw badValue(spec, 'a non-empty text', value);
      if (value.includes('\0')) throw badValue(spec, 'a text without NUL characters', value);
      return value;
  }
}

/** `4.5=later.png`, `1:02=b.png`, `#120=b.png`, or {time | frame, image} → a Keyframe. */
function checkKeyframe(spec: FieldSpec, value: unknown): Keyframe {
  const what = 'T=IMAGE with T in seconds (4.5), [h:]m:s (0:04.5) or #N a frame index (#54)';
  if (typeof value === 'string') {
    const eq = value.indexOf('=');
    const at = eq < 0 ? '' : value.slice(0, eq).trim();
    const image = eq < 0 ? '' : value.slice(eq + 1);
    if (image === '' || image.includes('\0')) throw badValue(spec, what, value);
    const frame = /^#\d+$/.test(at) ? Number(at.slice(1)) : undefined;
    const time = frame === undefined ? parseTime(at) : undefined;
    if (frame === undefined && time === undefined) throw badValue(spec, what, value);
    return frame !== undefined ? { frame, image } : { time, image };
  }
  if (typeof value === 'object' && value !== null) {
    const { time, frame, image } = value as Record<string, unknown>;
    const okImage = typeof image === 'string' && image !== '' && !image.includes('\0');
    const okTime = typeof time === 'number' && Number.isFinite(time) && time >= 0 && frame === undefined;
    const okFrame = typeof frame === 'number' && Number.isSafeInteger(frame) && frame >= 0 && time === undefined;
    if (okImage && (okTime || okFrame)) return okTime ? { time: time as number, image: image as string } : { frame: frame as number, image: image as string };
  }
  throw badValue(spec, `${what}, or {time | frame, image}`, value);
}

/** A keyframe as the user wrote it (`4.5=later.png`, `#54=later.png`), for messages. */
export function keyframeText(k: Keyframe): string {
  return `${k.frame !== undefined ? `#${k.frame}` : k.time}=${k.image}`;
}
