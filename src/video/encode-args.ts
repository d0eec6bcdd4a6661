/**
 * What the output file is and the ffmpeg arguments that make it: container from the extension, codec, quality,
 * colour tags, pixel aspect ratio, rotation and odd sizes carried over from the source, audio. Pure functions
 * (no processes): write.ts runs ffmpeg with what this builds.
 *
 * Odd sizes: VP9 and FFV1 store them exactly. H.264 and HEVC at 4:2:0 cannot (their cropping works in whole
 * chroma samples, i.e. 2 pixels), so an odd side is padded by one pixel that repeats the edge: every source pixel is
 * kept (rounding down would drop a row or column of the picture) and 4:2:0 plays everywhere, unlike 4:4:4.
 *
 * Depth: frames are piped as rgb24, or as rgb48 for a source above 8 bits into HEVC (yuv420p10le), VP9
 * (yuv420p10le, profile 2) or FFV1 (gbrp16le, lossless for our frames). H.264 stays 8-bit (High 10 plays in few
 * places).
 *
 * Rotation: frames arrive upright (ffmpeg rotates while decoding). MP4/MOV get them turned back to the source's
 * stored orientation plus the source's rotation flag, so the output is stored and shown like the input.
 * Matroska/WebM (no rotation flag in this ffmpeg's muxer) store them upright.
 */
import path from 'node:path';
import { yuvMatrix, yuvRange, type YuvMatrix } from './colour.js';
import { msg, option, VideoshopError, type MessagePart } from '../util/errors.js';
import type { ColourTags, Rational } from './probe.js';

export type Container = 'mp4' | 'mov' | 'mkv' | 'webm';
export type VideoCodec = 'h264' | 'hevc' | 'vp9' | 'ffv1';
export type AudioChoice = 'copy' | 'aac' | 'none';
export type AudioResult = 'none' | 'copied' | 'aac' | 'opus';

export const VIDEO_CODECS: readonly VideoCodec[] = ['h264', 'hevc', 'vp9', 'ffv1'];
export const AUDIO_CHOICES: readonly AudioChoice[] = ['copy', 'aac', 'none'];

const CONTAINERS: Record<string, Container> = { '.mp4': 'mp4', '.m4v': 'mp4', '.mov': 'mov', '.mkv': 'mkv', '.webm': 'webm' };
const MUXER: Record<Container, string> = { mp4: 'mp4', mov: 'mov', mkv: 'matroska', webm: 'webm' };
const CODECS_IN: Record<Container, readonly VideoCodec[]> = {
  mp4: ['h264', 'hevc'], mov: ['h264', 'hevc'], mkv: ['h264', 'hevc', 'vp9', 'ffv1'], webm: ['vp9'],
};
/** Audio codecs each container takes as they are; anything else is re-encoded (AAC, or Opus for WebM). */
const AUDIO_IN: Record<Container, ReadonlySet<string> | 'any'> = {
  mp4: new Set(['aac', 'mp3', 'alac', 'ac3', 'eac3', 'opus', 'flac']),
  mov: new Set(['aac', 'mp3', 'alac', 'ac3', 'eac3', 'pcm_s16le', 'pcm_s16be', 'pcm_s24le', 'pcm_s24be', 'pcm_f32le']),
  mkv: 'any',
  webm: new Set(['opus', 'vorbis']),
};
const DEFAULT_CRF: Record<VideoCodec, number | undefined> = { h264: 18, hevc: 20, vp9: 31, ffv1: undefined };
const MAX_CRF: Record<VideoCodec, number> = { h264: 51, hevc: 51, vp9: 63, ffv1: 0 };
export const X26X_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'];
/** libvpx's -cpu-used for the x264 preset names (0 = slowest, best). */
const VP9_SPEED: Record<string, number> = {
  ultrafast: 8, superfast: 7, veryfast: 6, faster: 5, fast: 5, medium: 4, slow: 2, slower: 1, veryslow: 0, placebo: 0,
};

/**
 * The time base variable-rate frames are written in (their times are whole ticks of it): MP4/MOV's track timescale,
 * set to 90000 (the finest common one: it holds millisecond, 1/30000 and 1/90000 sources exactly), and Matroska/
 * WebM's fixed millisecond. The encoder counts in the same ticks (-enc_time_base): left alone, this ffmpeg (5.1)
 * gives it 1/(the rate it guesses from the piped timestamps) and rounds every frame's time to that, e.g. to 2/25 s
 * for frames 40, 80, 160 ms … apart, or to 3/4 s for gaps of 1, 2, 4 ms … 4 s, piling frames onto one time.
 */
export const FRAME_TIME_BASE: Readonly<Record<Container, Rational>> = {
  mp4: { num: 1, den: 90000 }, mov: { num: 1, den: 90000 }, mkv: { num: 1, den: 1000 }, webm: { num: 1, den: 1000 },
};

/** What the source looks like, for carrying it over (all optional: synthetic frames have no source). */
export interface SourceLook {
  colour?: ColourTags;
  pixFmt?: string;
  codedWidth?: number;
  codedHeight?: number;
  sar?: Rational;
  /** The source's rotation as probe.ts reports it (display-matrix degrees, 0/90/180/270). */
  rotation?: number;
  /** Bits per sample of the source: above 8, HEVC, VP9 and FFV1 are written at 10/16 bits from 16-bit frames. */
  bitDepth?: number;
}

export interface EncodeChoice {
  codec?: VideoCodec;
  crf?: number;
  preset?: string;
  audio?: AudioChoice;
}

export interface EncodePlan {
  container: Container;
  codec: VideoCodec;
  crf: number | undefined;
  preset: string;
  /** Size written (after turning back to the stored orientation and padding odd sides). */
  width: number;
  height: number;
  /** Bits per sample of the frames piped to ffmpeg: 16 (rgb48) for deep sources into a deep codec, else 8. */
  depth: 8 | 16;
  /** Things the user should know (odd sides padded, an option ignored), as message parts naming the options. */
  notes: MessagePart[][];
}

/** The container an output path asks for, or a one-line error naming the ones we write. */
export function containerFor(outPath: string): Container {
  const ext = path.extname(outPath).toLowerCase();
  const container = CONTAINERS[ext];
  if (!container) throw new VideoshopError('bad_input', `output ${outPath}: unknown extension ${ext || '(none)'}; use .mp4, .mov, .mkv or .webm`);
  return container;
}

/** The codec, crf and preset to use, validated against the container; the encoded size. */
export function planEncode(outPath: string, width: number, height: number, choice: EncodeChoice = {}, look: SourceLook = {}): EncodePlan {
  const container = containerFor(outPath);
  const codec = choice.codec ?? (container === 'webm' ? 'vp9' : 'h264');
  if (!VIDEO_CODECS.includes(codec)) {
    throw new VideoshopError('bad_option', msg`unknown ${option('codec')} ${String(codec)}: use ${VIDEO_CODECS.join(', ')}`, { field: 'codec', params: { value: codec } });
  }
  if (!CODECS_IN[container].includes(codec)) {
    throw new VideoshopError('bad_option', msg`.${container} cannot hold ${codec}: use ${option('codec')} ${CODECS_IN[container].join(' or ')} (or another extension)`,
      { field: 'codec', params: { value: codec, container, allowed: CODECS_IN[container] } });
  }
  const notes: MessagePart[][] = [];
  let crf = choice.crf ?? DEFAULT_CRF[codec];
  if (codec === 'ffv1') {
    if (choice.crf !== undefined) notes.push(msg`ffv1 is lossless: ${option('crf')} ignored`);
    crf = undefined;
  } else if (!(Number.isInteger(crf) && (crf as number) >= 0 && (crf as number) <= MAX_CRF[codec])) {
    throw new VideoshopError('bad_option', msg`${option('crf')} must be an integer within 0…${MAX_CRF[codec]} for ${codec}, got ${String(crf)}`,
      { field: 'crf', params: { value: crf, max: MAX_CRF[codec], codec } });
  }
  const preset = choice.preset ?? 'medium';
  if (codec !== 'ffv1' && !X26X_PRESETS.includes(preset) && !(codec === 'vp9' && /^[0-8]$/.test(preset))) {
    throw new VideoshopError('bad_option',
      msg`${option('preset')} must be one of ${X26X_PRESETS.join(', ')}${codec === 'vp9' ? ' or a libvpx speed 0–8' : ''}, got ${preset}`,
      { field: 'preset', params: { value: preset, codec } });
  }
  const turned = storedTurn(container, look.rotation) % 180 !== 0;
  let w = turned ? height : width;
  let h = turned ? width : height;
  if ((codec === 'h264' || codec === 'hevc') && (w % 2 || h % 2)) {
    const even = { w: w + (w % 2), h: h + (h % 2) };
    notes.push(msg`${w}×${h} has an odd side and ${codec} 4:2:0 needs even sides: padded to ${even.w}×${even.h} by repeating the edge \
(use .mkv with ${option('codec', 'ffv1')} or .webm for the exact size)`);
    w = even.w;
    h = even.h;
  }
  // H.264 stays 8-bit: High 10 plays in few places; the others carry a deep source's precision.
  const depth = (look.bitDepth ?? 8) > 8 && codec !== 'h264' ? 16 : 8;
  return { container, codec, crf, preset, width: w, height: h, depth, notes };
}

/** Clockwise degrees the upright frames must turn to get back to the source's stored orientation (MP4/MOV only). */
function storedTurn(container: Container, rotation = 0): number {
  if (container !== 'mp4' && container !== 'mov') return 0;
  return ((rotation % 360) + 360) % 360; // display matrix is counter-clockwise; undoing it turns clockwise by as much
}

const TURN_FILTER: Record<number, string | undefined> = { 90: 'transpose=clock', 180: 'hflip,vflip', 270: 'transpose=cclock' };

/** Matrix, range and the four tags the output carries (the source's, or what its decode assumed). */
function colourOut(look: SourceLook): { matrix: YuvMatrix; range: 'tv' | 'pc'; tags: string[] } {
  const colour = look.colour ?? {};
  const known = { colour, codedWidth: look.codedWidth ?? 0, codedHeight: look.codedHeight ?? 0, pixFmt: look.pixFmt ?? '' };
  const matrix = yuvMatrix(known);
  const range = look.colour ? yuvRange(known) : 'tv';
  const defaultTag = { bt709: 'bt709', bt601: 'smpte170m', bt2020: 'bt2020', smpte240m: 'smpte240m', fcc: 'smpte170m' }[matrix];
  const space = colour.space && colour.space !== 'gbr' ? colour.space : { bt709: 'bt709', bt601: 'smpte170m', bt2020: 'bt2020nc', smpte240m: 'smpte240m', fcc: 'fcc' }[matrix];
  return {
    matrix, range,
    tags: ['-colorspace', space, '-color_primaries', colour.primaries ?? defaultTag, '-color_trc', colour.transfer ?? defaultTag, '-color_range', range],
  };
}

export interface EncodeInput {
  /** Size of the incoming rgb24 frames. */
  frameWidth: number;
  frameHeight: number;
  /** Upright output size (the source's display size). */
  width: number;
  height: number;
  fps: Rational;
  /** Frames come as a Matroska stream with their own timestamps (variable frame rate) instead of raw rgb24. */
  timestamped: boolean;
  /** ffmpeg's keep-every-frame arguments (ffmpeg.ts passthroughArgs). */
  passthrough: readonly string[];
  /** Whether the file is final (then MP4/MOV get their index up front). */
  final: boolean;
}

/** ffmpeg arguments that encode frames from stdin into `target`. */
export function encodeArgs(target: string, plan: EncodePlan, input: EncodeInput, look: SourceLook = {}): string[] {
  const { frameWidth: fw, frameHeight: fh } = input;
  const upscale = input.width * input.height > fw * fh;
  // Lanczos keeps detail when going back up from the model's size to the source's; otherwise bilinear.
  const flags = `${upscale ? 'lanczos' : 'bilinear'}+accurate_rnd+full_chroma_int`;
  const turn = storedTurn(plan.container, look.rotation);
  // Planar RGB between the filters, so that the one conversion to YUV below is the one with the output's matrix.
  const planar = plan.depth === 16 ? 'gbrp16le' : 'gbrp';
  const filters = [`scale=${input.width}:${input.height}:flags=${flags}`, `format=${planar}`];
  const turnFilter = TURN_FILTER[turn];
  if (turnFilter) filters.push(turnFilter);
  const stored = turn % 180 ? { w: input.height, h: input.width } : { w: input.width, h: input.height };
  if (plan.width !== stored.w || plan.height !== stored.h) {
    filters.push(`pad=${plan.width}:${plan.height}:0:0`,
      `fillborders=right=${plan.width - stored.w}:bottom=${plan.height - stored.h}:mode=smear`);
  }
  const colour = colourOut(look);
  const pixFmt = plan.codec === 'ffv1' ? planar : plan.depth === 16 ? 'yuv420p10le' : 'yuv420p';
  if (plan.codec !== 'ffv1') filters.push(`scale=out_color_matrix=${colour.matrix}:out_range=${colour.range}:flags=${flags}`, `format=${pixFmt}`);
  const sar = look.sar ?? { num: 1, den: 1 };
  filters.push(`setsar=${sar.num}/${sar.den}`);
  const inputArgs = input.timestamped
    ? ['-f', 'matroska', '-i', 'pipe:0']
    : ['-f', 'rawvideo', '-pix_fmt', plan.depth === 16 ? 'rgb48le' : 'rgb24', '-video_size', `${fw}x${fh}`, '-framerate', `${input.fps.num}/${input.fps.den}`, '-i', 'pipe:0'];
  const tags = plan.codec === 'ffv1'
    ? ['-color_primaries', look.colour?.primaries ?? 'bt709', '-color_trc', look.colour?.transfer ?? 'bt709']
    : colour.tags;
  return [
    '-hide_banner', '-v', 'error', '-y',
    ...inputArgs,
    '-map', '0:v:0',
    '-vf', filters.join(','),
    ...input.passthrough,
    ...codecArgs(plan, pixFmt),
    ...tags,
    ...(input.timestamped ? timeBaseArgs(plan.container) : []),
    ...(input.final && (plan.container === 'mp4' || plan.container === 'mov') ? ['-movflags', '+faststart'] : []),
    '-f', MUXER[plan.container], target,
  ];
}

/** The encoder's (and for MP4/MOV the track's) time base for frames with their own times: FRAME_TIME_BASE. */
function timeBaseArgs(container: Container): string[] {
  const tb = FRAME_TIME_BASE[container];
  return ['-enc_time_base', `${tb.num}:${tb.den}`, ...(container === 'mp4' || container === 'mov' ? ['-video_track_timescale', String(tb.den / tb.num)] : [])];
}

function codecArgs(plan: EncodePlan, pixFmt: string): string[] {
  switch (plan.codec) {
    case 'h264':
      return ['-c:v', 'libx264', '-preset', plan.preset, '-crf', String(plan.crf), '-pix_fmt', pixFmt];
    case 'hevc':
      return ['-c:v', 'libx265', '-preset', plan.preset, '-crf', String(plan.crf), '-pix_fmt', pixFmt,
        '-x265-params', 'log-level=error', ...(plan.container === 'mkv' ? [] : ['-tag:v', 'hvc1'])];
    case 'vp9': {
      const speed = /^[0-8]$/.test(plan.preset) ? Number(plan.preset) : VP9_SPEED[plan.preset] ?? 4;
      return ['-c:v', 'libvpx-vp9', '-crf', String(plan.crf), '-b:v', '0', '-deadline', 'good', '-cpu-used', String(speed),
        '-row-mt', '1', '-pix_fmt', pixFmt];
    }
    case 'ffv1':
      return ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', pixFmt];
  }
}

/**
 * The rotation flag the output needs (MP4/MOV of a rotated source), or undefined. This ffmpeg (5.1) sets it only
 * when stream-copying, so write.ts remuxes once more (muxArgs) when there is one.
 */
export function rotationTag(plan: EncodePlan, look: SourceLook = {}): number | undefined {
  const turn = storedTurn(plan.container, look.rotation);
  return turn ? turn : undefined;
}

/**
 * What happens to the source's audio: kept as is, re-encoded (and why), or none. `cutting`: the audio starts
 * later than the source's (an edited segment); stream copy would keep the source's timestamps there (ffmpeg 5.1
 * then shifts the video to match, or writes an edit list that delays the audio by the start), so it is re-encoded.
 */
export function planAudio(container: Container, sourceCodec: string | undefined, choice: AudioChoice = 'copy', cutting = false): { audio: AudioResult; note?: string } {
  if (!AUDIO_CHOICES.includes(choice)) {
    throw new VideoshopError('bad_option', msg`unknown ${option('audio')} choice ${String(choice)}: use copy, aac or none`, { field: 'audio', params: { value: choice } });
  }
  if (sourceCodec === undefined || choice === 'none') return { audio: 'none' };
  const fallback: AudioResult = container === 'webm' ? 'opus' : 'aac';
  if (choice === 'aac') {
    if (container === 'webm') {
      throw new VideoshopError('bad_option', msg`.webm holds Opus or Vorbis audio, not AAC: use ${option('audio', 'copy')} (Opus) or ${option('audio', 'none')}`,
        { field: 'audio', params: { value: choice, container } });
    }
    return { audio: 'aac' };
  }
  const fits = AUDIO_IN[container];
  if (cutting) return { audio: fallback, note: `the segment's audio was re-encoded to ${fallback === 'aac' ? 'AAC' : 'Opus'} to start exactly with its first frame` };
  if (fits === 'any' || fits.has(sourceCodec)) return { audio: 'copied' };
  return { audio: fallback, note: `the source's ${sourceCodec} audio does not fit .${container}: re-encoded to ${fallback === 'aac' ? 'AAC' : 'Opus'}` };
}

export interface AudioSource {
  file: string;
  audio: AudioResult;
  startSeconds: number;
  /** How much of it; undefined: all of it (it already has the video's length). */
  seconds: number | undefined;
}

/**
 * ffmpeg arguments that copy the encoded video into `target` with `seconds` of the source's audio from
 * `startSeconds` (when there is audio) and the rotation flag (when there is one).
 */
export function muxArgs(videoFile: string, audio: AudioSource | undefined, target: string, container: Container, rotation?: number,
  videoStartSeconds?: number): string[] {
  const audioIn = audio
    ? [...(audio.startSeconds > 0 ? ['-ss', audio.startSeconds.toFixed(6)] : []), ...(audio.seconds === undefined ? [] : ['-t', audio.seconds.toFixed(6)]), '-i', audio.file]
    : [];
  const audioCodec = !audio ? [] : audio.audio === 'copied' ? ['-c:a', 'copy']
    : audio.audio === 'opus' ? ['-c:a', 'libopus', '-b:a', '160k'] : ['-c:a', 'aac', '-b:a', '192k'];
  return [
    '-nostdin', '-hide_banner', '-v', 'error', '-y',
    ...(videoStartSeconds ? ['-itsoffset', videoStartSeconds.toFixed(6)] : []), '-i', videoFile,
    ...audioIn,
    '-map', '0:v:0', ...(audio ? ['-map', '1:a:0'] : []),
    '-c:v', 'copy',
    ...audioCodec,
    // ffmpeg 5.1 turns this tag into the display matrix when stream-copying; ffprobe reports it back as `rotation`.
    ...(rotation ? ['-metadata:s:v:0', `rotate=${rotation}`] : []),
    ...(container === 'mp4' || container === 'mov' ? ['-movflags', '+faststart'] : []),
    '-f', MUXER[container], target,
  ];
}
