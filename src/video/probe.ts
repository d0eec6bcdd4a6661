/** What a video holds, from ffprobe: display size, rotation, exact frame rate and frame count, audio. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isVideoshopError, VideoshopError } from '../util/errors.js';
import { fileArg, ffprobePath, lastErrorLine, runTool } from './ffmpeg.js';

export interface Rational {
  num: number;
  den: number;
}

export interface VideoInfo {
  path: string;
  /** Size of the frames ffmpeg decodes, i.e. after applying the rotation metadata (ffmpeg autorotates). */
  width: number;
  height: number;
  /** Rotation from the display matrix in degrees, one of 0, 90, 180, 270 (ffprobe's sign convention). */
  rotation: number;
  /** Stored (coded) size before rotation. */
  codedWidth: number;
  codedHeight: number;
  fps: Rational;
  fpsValue: number;
  frameCount: number;
  durationSeconds: number;
  hasAudio: boolean;
  audioCodec: string | undefined;
  codec: string;
  pixFmt: string;
  /** Index of the video stream in the container (for `-map 0:<index>`). */
  streamIndex: number;
  formatName: string;
  /** Colour tags as ffprobe names them (undefined when untagged); see colour.ts for how they are used. */
  colour: ColourTags;
  /** Bits per sample of the stored pixels (8 for yuv420p, 10 for yuv420p10le, 16 for rgb48le). */
  bitDepth: number;
  /** Sample (pixel) aspect ratio; 1:1 when unset. */
  sar: Rational;
  /** Time base of the stream's timestamps. */
  timeBase: Rational;
  /**
   * Presentation timestamp of every frame (in `timeBase` units, ascending, as stored). Its differences are what
   * makes a video variable-rate; `vfr` says whether they differ by more than one tick.
   */
  pts: number[];
  vfr: boolean;
  /** The container's start time in seconds (what ffmpeg's `-ss` counts from). */
  formatStartSeconds: number;
}

export interface ColourTags {
  space?: string;
  range?: string;
  primaries?: string;
  transfer?: string;
  chromaLocation?: string;
}

type Json = Record<string, unknown>;

function parseRational(text: unknown): Rational | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return undefined;
  const num = Number(m[1]);
  const den = Number(m[2]);
  if (num <= 0 || den <= 0) return undefined;
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

/** `1:1`-style ratios (SAR); `0:1` and garbage mean unset. */
function parseRatio(text: unknown): Rational | undefined {
  return typeof text === 'string' ? parseRational(text.replace(':', '/')) : undefined;
}

/** ffprobe writes `unknown` (or nothing) for an untagged property. */
function tag(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value !== 'unknown' && value !== 'unspecified' ? value : undefined;
}

/** Bits per sample from the pixel format's name: yuv420p10le → 10, p010le → 10, rgb48le → 16, gbrpf32le → 32. */
export function pixFmtBitDepth(pixFmt: string): number {
  const packed = /^(?:rgb|bgr)a?(48|64)|^(?:rgba|bgra)64/.exec(pixFmt);
  if (packed) return 16;
  const planar = /(?:p|f|gray|ya|p0)(\d{1,2})(?:le|be)$/.exec(pixFmt);
  if (planar) return Number(planar[1]);
  return 8;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * `r_frame_rate` is the container's nominal rate (exact, e.g. 30000/1001) but is garbage for some variable-rate
 * files; `avg_frame_rate` is frames/duration (e.g. a GIF's centisecond delays give 145/12 for 12 fps).
 * Prefer the nominal rate when the two agree within 5%.
 */
function chooseFps(stream: Json): Rational | undefined {
  const r = parseRational(stream.r_frame_rate);
  const avg = parseRational(stream.avg_frame_rate);
  if (r && avg) {
    const rv = r.num / r.den;
    const av = avg.num / avg.den;
    return Math.abs(rv - av) / av < 0.05 ? r : avg;
  }
  return r ?? avg;
}

/** Rotation in degrees normalised to 0/90/180/270: display-matrix side data first, else the legacy `rotate` tag. */
function readRotation(stream: Json): number {
  let degrees = 0;
  const sideData = Array.isArray(stream.side_data_list) ? (stream.side_data_list as Json[]) : [];
  const matrix = sideData.find((s) => typeof s.rotation === 'number');
  const tags = (stream.tags ?? {}) as Json;
  if (matrix) degrees = matrix.rotation as number;
  else if (tags.rotate !== undefined) degrees = -Number(tags.rotate); // the tag is clockwise, the matrix counter-clockwise
  if (!Number.isFinite(degrees)) return 0;
  return ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
}

/** An MP4/MOV whose index (moov atom) is missing but starts like one was most likely cut short. */
function looksLikeIsoMedia(file: string): boolean {
  const head = Buffer.alloc(12);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 12, 0);
  } finally {
    closeSync(fd);
  }
  return head.toString('latin1', 4, 8) === 'ftyp';
}

function checkReadable(file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new VideoshopError('not_a_file', `not a video file: ${file} is a directory`);
    // Opening a FIFO blocks until a writer comes, a device never ends: only regular files are read.
    if (!st.isFile()) throw new VideoshopError('not_a_file', `not a video file: ${file} is a FIFO, socket or device; give a regular file`);
    size = st.size;
  } catch (err) {
    if (isVideoshopError(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VideoshopError('bad_input', `video not found: ${file}`);
    throw new VideoshopError('bad_input', `cannot read video ${file}: ${(err as Error).message}`);
  }
  if (size === 0) throw new VideoshopError('bad_input', `video file is empty (0 bytes): ${file}`);
  try {
    closeSync(openSync(file, 'r'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VideoshopError('bad_input', `cannot read video ${file}: ${code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

/** Probes `file` with ffprobe; throws a one-line VideoshopError for anything that makes it unusable. */
export async function probeVideo(file: string): Promise<VideoInfo> {
  checkReadable(file);
  // -count_packets demuxes the whole file (cheap, no decoding): an exact frame count where the container has
  // none, and a truncation check where it has one.
  const args = ['-v', 'error', '-count_packets', '-show_streams', '-show_format', '-of', 'json', fileArg(file)];
  const { code, stdout, stderr } = await runTool(ffprobePath(), args);
  if (code !== 0) {
    const reason = lastErrorLine(stderr).replace(`${fileArg(file)}: `, '').replace(`${file}: `, '');
    if (/moov atom not found/.test(stderr) && looksLikeIsoMedia(file)) {
      throw new VideoshopError('bad_input', `video is truncated or incomplete (its MP4 index is missing): ${file}`);
    }
    throw new VideoshopError('bad_input', `not a video ffmpeg can read: ${file} (${reason})`);
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(stdout) as Json;
  } catch {
    throw new VideoshopError('bad_input', `ffprobe gave unreadable output for ${file}`);
  }
  const streams = (Array.isArray(parsed.streams) ? parsed.streams : []) as Json[];
  const format = (parsed.format ?? {}) as Json;
  // Cover art in audio files shows up as a one-picture video stream: not a video.
  const video = streams.find((s) => s.codec_type === 'video' && ((s.disposition ?? {}) as Json).attached_pic !== 1);
  if (!video) throw new VideoshopError('bad_input', `no video stream in ${file}`);
  const audio = streams.find((s) => s.codec_type === 'audio');

  const codedWidth = Number(video.width);
  const codedHeight = Number(video.height);
  if (!(codedWidth > 0 && codedHeight > 0)) throw new VideoshopError('bad_input', `video stream of ${file} has no frame size (corrupt?)`);
  const rotation = readRotation(video);
  const swap = rotation === 90 || rotation === 270;

  const formatName = String(format.format_name ?? 'unknown');
  // ffmpeg reads a PNG or JPEG as a one-frame "video" (png_pipe, image2…): almost always the edited frame given in
  // the video's place.
  if (/^image2$|_pipe$/.test(formatName)) {
    throw new VideoshopError('bad_input', `${file} is a still image, not a video: give the video itself (the edited image is the edited frame)`);
  }
  // Only MP4/MOV headers count their samples reliably (an AVI index may list an empty packet more).
  const declared = /mp4|mov/.test(formatName) ? positiveNumber(video.nb_frames) : undefined;
  const packets = Number(video.nb_read_packets ?? 0);
  if (!(packets > 0)) throw new VideoshopError('bad_input', `video has no frames: ${file}`);
  if ((declared !== undefined && packets < declared) || /partial file|truncat|premature/i.test(stderr)) {
    const of = declared !== undefined ? ` (${packets} of ${declared} frames present)` : '';
    throw new VideoshopError('bad_input', `video is truncated or corrupt${of}: ${file}`);
  }
  const frameCount = packets;

  const timeBase = parseRational(video.time_base) ?? { num: 1, den: 90000 };
  const pts = await readPts(file, Number(video.index));
  const fps = chooseFps(video) ?? { num: 25, den: 1 };
  const fpsValue = fps.num / fps.den;
  const vfr = isVariableRate(pts, fps, timeBase);
  // Not the container's duration: that includes audio running past the last frame. Nor, when variable-rate, the
  // stream's (Matroska has none, so it would be frames / rate; an MP4 with B-frames sums decoding steps, which end
  // early by the reorder delay's gaps): the last frame's time then, plus the gap before it (as timing.ts counts).
  const tb = timeBase.num / timeBase.den;
  const durationSeconds = vfr && pts.length === frameCount
    ? (2 * pts[frameCount - 1] - pts[frameCount - 2] - pts[0]) * tb
    : positiveNumber(video.duration) ?? frameCount / fpsValue;
  return {
    path: file,
    width: swap ? codedHeight : codedWidth,
    height: swap ? codedWidth : codedHeight,
    rotation,
    codedWidth,
    codedHeight,
    fps,
    fpsValue,
    frameCount,
    durationSeconds,
    hasAudio: audio !== undefined,
    audioCodec: typeof audio?.codec_name === 'string' ? audio.codec_name : undefined,
    codec: String(video.codec_name ?? 'unknown'),
    pixFmt: String(video.pix_fmt ?? 'unknown'),
    streamIndex: Number(video.index),
    formatName,
    colour: {
      space: tag(video.color_space),
      range: tag(video.color_range),
      primaries: tag(video.color_primaries),
      transfer: tag(video.color_transfer),
      chromaLocation: tag(video.chroma_location),
    },
    bitDepth: pixFmtBitDepth(String(video.pix_fmt ?? '')),
    sar: parseRatio(video.sample_aspect_ratio) ?? { num: 1, den: 1 },
    timeBase,
    pts,
    vfr,
    formatStartSeconds: Number(format.start_time ?? 0) || 0,
  };
}

/**
 * Every packet's presentation timestamp, sorted (packets come in decoding order). One more demuxing pass,
 * no decoding. Packets without a timestamp (some AVIs) are left out; the frame count does not depend on them.
 */
async function readPts(file: string, streamIndex: number): Promise<number[]> {
  const args = ['-v', 'error', '-select_streams', String(streamIndex), '-show_entries', 'packet=pts', '-of', 'csv=p=0', fileArg(file)];
  const { code, stdout } = await runTool(ffprobePath(), args);
  if (code !== 0) return [];
  const pts = stdout.split('\n').map((l) => Number.parseInt(l, 10)).filter((n) => Number.isFinite(n));
  return pts.sort((a, b) => a - b);
}

/** Variable-rate when some frame interval differs from the nominal 1/fps by more than one tick (and ½ ms). */
function isVariableRate(pts: readonly number[], fps: Rational, tb: Rational): boolean {
  if (pts.length < 3) return false;
  const nominal = (fps.den * tb.den) / (fps.num * tb.num); // ticks per frame
  const tolerance = Math.max(1.01, 0.0005 * tb.den / tb.num);
  for (let i = 1; i < pts.length; i++) if (Math.abs(pts[i] - pts[i - 1] - nominal) > tolerance) return true;
  return false;
}

/** Codec of the first audio stream of `file` (any media file), or undefined when it has none. */
export async function probeAudioCodec(file: string): Promise<string | undefined> {
  checkReadable(file);
  const args = ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=codec_name', '-of', 'json', fileArg(file)];
  const { code, stdout, stderr } = await runTool(ffprobePath(), args);
  if (code !== 0) throw new VideoshopError('bad_input', `cannot read audio from ${file}: ${lastErrorLine(stderr).replace(`${fileArg(file)}: `, '').replace(`${file}: `, '')}`);
  const streams = (JSON.parse(stdout) as Json).streams;
  const first = Array.isArray(streams) ? (streams[0] as Json | undefined) : undefined;
  return typeof first?.codec_name === 'string' ? first.codec_name : undefined;
}
