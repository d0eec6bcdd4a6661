/**
 * Decoding a video into frames with ffmpeg, streamed over a pipe (one frame in memory at a time), in one pass:
 * a window that starts later is reached by seeking, not by decoding from frame 0.
 *
 * Pixels: frames are converted to RGB at their own (display) size first, exactly as `ffmpeg -pix_fmt rgb24`
 * does with the right matrix and range (colour.ts: bit-exact for RGB sources, identical to ffmpeg's rgb24 for
 * tagged YUV, BT.709 for untagged HD); 8-bit sources as rgb24, deeper ones as rgb48. Then resized to the processing
 * size, as the reference does (it resizes the decoded 8-bit RGB frames in float):
 * - `antialias`: the JS port of torch's antialiased bilinear (resize.ts), bit-for-bit the reference's filter,
 *   ~0.16 s per 1080p frame (bench/video-read.ts, busy 2-core machine);
 * - `fast` (default): swscale's bilinear on the rgb24 frames inside ffmpeg (its bilinear widens with the
 *   downscale factor like torch's triangle filter), ~10× cheaper. Mean (max) |difference| to `antialias` in
 *   8-bit levels on testsrc2: 1920×1080 → 1024×576 0.017 (2.8), 1280×720 → 448×256 0.13 (12), 320×160 → 128×64
 *   0.45 (20). Deep sources always use `antialias` (swscale's 16-bit RGB output is scaled slightly wrong, colour.ts).
 */
import { spawn } from 'node:child_process';
import type { Tensor } from '../tensor.js';
import { readsDeep, rgb48FullScale, toRgbFilter } from './colour.js';
import { VideoshopError } from '../util/errors.js';
import { StderrTail, ffmpegPath, fileArg, lastErrorLine, passthroughArgs } from './ffmpeg.js';
import { rgb16ToChw, rgb8ToChw } from './pixels.js';
import { probeVideo, type VideoInfo } from './probe.js';
import { resizeImage } from '../image/resize.js';

/** swscale flags of the `fast` resize (RGB → RGB, 8 bits). */
export const SCALE_FLAGS = 'bilinear';

export type ResizeMode = 'fast' | 'antialias';

export interface FrameRange {
  /** First frame to decode (0-based, in presentation order). */
  start?: number;
  /** How many frames; default: all frames from `start` on. */
  count?: number;
  /** The probe result, if the caller already has it (saves an ffprobe run). */
  info?: VideoInfo;
  signal?: AbortSignal;
}

export interface ReadOptions extends FrameRange {
  width: number;
  height: number;
  /** Only `stretch` (the reference resizes to the model size ignoring aspect); cropping is the caller's choice. */
  fit?: 'stretch';
  /** How frames are brought to width×height (see the file's header); default `fast`. */
  resize?: ResizeMode;
}

export interface Rgb8Frame {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Frames as [3,H,W] float RGB in [-1, 1] at `width`×`height`, exactly `count` of them. At the display size
 * (`info.width`×`info.height`) nothing is resized: the frames are the exact RGB decode.
 */
export async function* readFrames(file: string, opts: ReadOptions): AsyncGenerator<Tensor> {
  checkSize(opts.width, opts.height);
  if (opts.fit !== undefined && opts.fit !== 'stretch') throw new VideoshopError('bad_input', `unsupported fit mode: ${String(opts.fit)}`);
  if (opts.resize !== undefined && opts.resize !== 'fast' && opts.resize !== 'antialias') {
    throw new VideoshopError('bad_input', `unknown resize mode: ${String(opts.resize)} (fast or antialias)`);
  }
  const info = opts.info ?? (await probeVideo(file));
  const native = opts.width === info.width && opts.height === info.height;
  const rgb = toRgbFilter(info);
  if (readsDeep(info)) {
    const full = rgb48FullScale(info);
    for await (const buf of decodeRaw(file, { ...opts, info }, rgb, info.width * info.height * 6)) {
      const words = new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
      const frame = rgb16ToChw(words, info.width, info.height, 3, full);
      yield native ? frame : resizeImage(frame, opts.width, opts.height);
    }
    return;
  }
  if (native || opts.resize === 'antialias') {
    for await (const buf of decodeRaw(file, { ...opts, info }, rgb, info.width * info.height * 3)) {
      const frame = rgb8ToChw(buf, info.width, info.height);
      yield native ? frame : resizeImage(frame, opts.width, opts.height);
    }
    return;
  }
  const filter = `${rgb},scale=${opts.width}:${opts.height}:flags=${SCALE_FLAGS}`;
  for await (const buf of decodeRaw(file, { ...opts, info }, filter, opts.width * opts.height * 3)) {
    yield rgb8ToChw(buf, opts.width, opts.height);
  }
}

/** Frames at their native (display) size as interleaved 8-bit RGB, e.g. for quality metrics. */
export async function* readFramesRGB8(file: string, opts: FrameRange = {}): AsyncGenerator<Rgb8Frame> {
  const info = opts.info ?? (await probeVideo(file));
  const { width, height } = info;
  const rgb = toRgbFilter({ ...info, bitDepth: 8 });
  for await (const buf of decodeRaw(file, { ...opts, info }, rgb, width * height * 3)) {
    yield { data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), width, height };
  }
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`frame size must be positive integers, got ${width}×${height}`);
  }
}

function frameWindow(info: VideoInfo, start = 0, count?: number): { start: number; count: number } {
  if (!Number.isInteger(start) || start < 0) throw new RangeError(`start frame must be a non-negative integer, got ${start}`);
  if (start >= info.frameCount) {
    throw new VideoshopError('bad_input', `start frame ${start} is past the end: ${info.path} has ${info.frameCount} frames`);
  }
  const n = count ?? info.frameCount - start;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`frame count must be a positive integer, got ${n}`);
  if (start + n > info.frameCount) {
    throw new VideoshopError('bad_input', `asked for frames ${start}–${start + n - 1} but ${info.path} has ${info.frameCount} frames`);
  }
  return { start, count: n };
}

const SEEKABLE = /mov|mp4|matroska|webm|gif/;

/**
 * Where ffmpeg's `-ss` must seek to land exactly on frame `start`: halfway between its timestamp and the previous
 * frame's (so rounding can't move it), relative to the container's start (what `-ss` counts from). Undefined when
 * the timestamps are unknown, don't match the frame count, or the container's seeking is not exact: then `trim`
 * counts decoded frames from the start.
 */
export function seekSeconds(info: VideoInfo, start: number): number | undefined {
  if (start === 0 || info.pts.length !== info.frameCount) return undefined;
  // Containers whose timestamps seek exactly (tested); AVI's (and other old formats') do not.
  if (!SEEKABLE.test(info.formatName)) return undefined;
  const tb = info.timeBase.num / info.timeBase.den;
  return Math.max(0, ((info.pts[start - 1] + info.pts[start]) / 2) * tb - info.formatStartSeconds);
}

/** Spawns ffmpeg and yields each frame's raw bytes (a fresh Buffer per frame), then checks how it ended. */
async function* decodeRaw(file: string, opts: FrameRange, filter: string, frameBytes: number): AsyncGenerator<Buffer> {
  const info = opts.info ?? (await probeVideo(file));
  const { start, count } = frameWindow(info, opts.start, opts.count);
  const seek = seekSeconds(info, start);
  const filters: string[] = [];
  // Without timestamps, trim counts decoded frames, so frame `start` is exact (but decodes everything before it).
  if (start > 0 && seek === undefined) filters.push(`trim=start_frame=${start}:end_frame=${start + count}`);
  filters.push(filter);
  const pixFmt = /rgb48le$/.test(filter) ? 'rgb48le' : 'rgb24';
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error',
    ...(seek !== undefined ? ['-ss', seek.toFixed(6)] : []),
    '-i', fileArg(file),
    '-map', `0:${info.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', filters.join(','),
    ...(await passthroughArgs()),
    '-frames:v', String(count),
    '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1',
  ];
  const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
  const stderr = new StderrTail();
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));

  let delivered = 0;
  let frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          delivered++;
          const done = frame;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
          yield done;
        }
      }
    }
    const code = await exited;
    if (opts.signal?.aborted) throw opts.signal.reason ?? new VideoshopError('bad_input', 'decoding was cancelled');
    if (spawnError) throw spawnError;
    if (code !== 0) throw new VideoshopError('bad_input', `ffmpeg could not decode ${file}: ${lastErrorLine(stderr.toString())}`);
    if (delivered < count) {
      throw new VideoshopError('bad_input', `video ended after ${delivered} of ${count} frames (truncated or corrupt?): ${file}`);
    }
  } finally {
    // The consumer may stop early (break) or fail: don't leave ffmpeg running.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}
