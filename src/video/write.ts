/**
 * Encoding frames into an H.264 (yuv420p) MP4 with ffmpeg: exact frame rate and count, the source's audio,
 * written into a hidden temp file that counts only once verified, then installed without replacing what the caller
 * did not allow (output-file.ts), so a failed or cancelled run never leaves a half-written output.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Tensor } from '../tensor.js';
import { VideoError } from './errors.js';
import { StderrTail, ffmpegPath, fileArg, passthroughArgs, runTool } from './ffmpeg.js';
import { checkFfmpegRun, checkOutputTarget, installFile, nextRun, removeQuietly, tempPathFor, verifyVideoFile } from './output-file.js';
import { chwToRgb8 } from './pixels.js';
import { probeAudioCodec, type Rational } from './probe.js';

/** Audio codecs that MP4 players accept as they are; anything else is re-encoded to AAC. */
const MP4_AUDIO = new Set(['aac', 'mp3', 'alac', 'ac3', 'eac3', 'opus']);

export interface WriteOptions {
  /** Output size; odd sides become the next even size below (yuv420p needs even sides), reported in `notes`. */
  width: number;
  height: number;
  fps: Rational;
  /** Size of the incoming frames (default: the first frame's); ffmpeg scales them to width×height. */
  frameWidth?: number;
  frameHeight?: number;
  /** A media file whose first audio stream is copied in (re-encoded to AAC if MP4 can't hold it), trimmed to the video. */
  audioFrom?: string;
  /** Where in `audioFrom` the audio starts, in seconds (when the edit starts at a later frame). */
  audioStartSeconds?: number;
  /** x264 constant rate factor, 0 (lossless) … 51; default 18 (visually near-lossless). */
  crf?: number;
  /** x264 preset; default `medium`. */
  preset?: string;
  /** Files the output must not overwrite (the input video); `audioFrom` is always included. */
  inputs?: string[];
  /** Replace an existing output (default: refuse, also when it appears while encoding). */
  overwrite?: boolean;
  signal?: AbortSignal;
}

export interface WriteResult {
  path: string;
  width: number;
  height: number;
  frameCount: number;
  audio: 'none' | 'copied' | 'aac';
  /** Things the user should know (size rounded to even, audio re-encoded). */
  notes: string[];
}

/** yuv420p halves chroma in both directions, so H.264 needs even sides: the nearest even size at or below. */
export function evenSize(width: number, height: number): { width: number; height: number } {
  return { width: Math.max(2, width - (width % 2)), height: Math.max(2, height - (height % 2)) };
}

/** Resolves symlinks of the file (or, when it doesn't exist yet, of its folder). */
function canonical(file: string): string {
  const abs = path.resolve(file);
  if (existsSync(abs)) return realpathSync(abs);
  const dir = path.dirname(abs);
  return path.join(existsSync(dir) ? realpathSync(dir) : dir, path.basename(abs));
}

function sameFile(a: string, b: string): boolean {
  if (canonical(a) === canonical(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino; // hard links
  } catch {
    return false;
  }
}

export function assertNotInput(outPath: string, inputs: readonly string[]): void {
  for (const input of inputs) {
    if (sameFile(outPath, input)) {
      throw new VideoError(`refusing to overwrite the input: ${outPath} is ${input}; choose another output path`);
    }
  }
}

function checkOptions(opts: WriteOptions): void {
  const { width, height, fps } = opts;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`output size must be positive integers, got ${width}×${height}`);
  }
  if (!Number.isInteger(fps.num) || !Number.isInteger(fps.den) || fps.num < 1 || fps.den < 1) {
    throw new RangeError(`fps must be a positive integer ratio, got ${fps.num}/${fps.den}`);
  }
  const crf = opts.crf ?? 18;
  if (!(crf >= 0 && crf <= 51)) throw new RangeError(`crf must be within 0…51, got ${crf}`);
}

/** Encodes `frames` ([3,H,W] float RGB in [-1, 1]) to `outPath`. */
export async function writeVideo(
  outPath: string,
  frames: AsyncIterable<Tensor> | Iterable<Tensor>,
  opts: WriteOptions,
): Promise<WriteResult> {
  checkOptions(opts);
  const inputs = [...(opts.inputs ?? []), ...(opts.audioFrom ? [opts.audioFrom] : [])];
  assertNotInput(outPath, inputs);
  checkOutputTarget(outPath, { overwrite: opts.overwrite });
  if (opts.signal?.aborted) throw abortError(outPath);

  const notes: string[] = [];
  const size = evenSize(opts.width, opts.height);
  if (size.width !== opts.width || size.height !== opts.height) {
    notes.push(`${opts.width}×${opts.height} has an odd side and H.264 (yuv420p) needs even sides: wrote ${size.width}×${size.height}`);
  }
  const audioCodec = opts.audioFrom ? await probeAudioCodec(opts.audioFrom) : undefined;
  const audio = audioCodec === undefined ? 'none' : MP4_AUDIO.has(audioCodec) ? 'copied' : 'aac';
  if (audio === 'aac') notes.push(`the source's ${audioCodec} audio does not fit MP4: re-encoded to AAC`);

  const run = nextRun();
  const finalTemp = tempPathFor(outPath, run);
  // With audio, the video is encoded first and muxed with the audio trimmed to its exact length afterwards
  // (the frame count is only known once the frame stream ends).
  const videoTemp = audio === 'none' ? finalTemp : tempPathFor(outPath, run, '-video');
  try {
    const frameCount = await encodeFrames(videoTemp, frames, size, opts, audio === 'none', outPath);
    if (audio !== 'none') {
      await muxAudio(videoTemp, opts.audioFrom as string, finalTemp, frameCount, audio, opts, outPath);
      removeQuietly(videoTemp);
    }
    await verifyVideoFile(finalTemp, path.resolve(outPath), { ...size, frameCount, fps: opts.fps, audio: audio !== 'none' });
    opts.signal?.throwIfAborted();
    installFile(finalTemp, outPath, opts.overwrite ?? false);
    return { path: path.resolve(outPath), ...size, frameCount, audio, notes };
  } catch (err) {
    removeQuietly(videoTemp);
    removeQuietly(finalTemp);
    if (opts.signal?.aborted) throw abortError(outPath);
    throw err;
  }
}

function abortError(outPath: string): VideoError {
  const err = new VideoError(`writing ${outPath} was cancelled; nothing was written`, 'cancelled');
  err.name = 'AbortError';
  return err;
}

type Encoder = ChildProcessByStdio<Writable, null, Readable>;

async function encodeFrames(
  target: string,
  frames: AsyncIterable<Tensor> | Iterable<Tensor>,
  size: { width: number; height: number },
  opts: WriteOptions,
  faststart: boolean,
  outPath: string,
): Promise<number> {
  const iterator = Symbol.asyncIterator in frames ? frames[Symbol.asyncIterator]() : frames[Symbol.iterator]();
  const first = await iterator.next();
  if (first.done) throw new VideoError('no frames to write');
  const [channels, fh, fw] = first.value.dims;
  if (first.value.dims.length !== 3 || channels !== 3) {
    throw new Error(`writeVideo: frames must be [3,H,W], got [${first.value.dims.join(', ')}]`);
  }
  if ((opts.frameWidth !== undefined && opts.frameWidth !== fw) || (opts.frameHeight !== undefined && opts.frameHeight !== fh)) {
    throw new Error(`writeVideo: frames are ${fw}×${fh}, not the announced ${opts.frameWidth}×${opts.frameHeight}`);
  }
  const upscale = size.width * size.height > fw * fh;
  // Lanczos keeps detail when going back up from the model's size to the source's; otherwise bilinear (antialiased).
  const flags = `${upscale ? 'lanczos' : 'bilinear'}+accurate_rnd+full_chroma_int`;
  const args = [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', `${fw}x${fh}`,
    '-framerate', `${opts.fps.num}/${opts.fps.den}`, '-i', 'pipe:0',
    '-map', '0:v:0',
    '-vf', `scale=${size.width}:${size.height}:flags=${flags}:out_color_matrix=bt709:out_range=tv,format=yuv420p`,
    ...(await passthroughArgs()),
    '-c:v', 'libx264', '-preset', opts.preset ?? 'medium', '-crf', String(opts.crf ?? 18), '-pix_fmt', 'yuv420p',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    ...(faststart ? ['-movflags', '+faststart'] : []),
    '-f', 'mp4', fileArg(target),
  ];
  const child: Encoder = spawn(ffmpegPath(), args, { stdio: ['pipe', 'ignore', 'pipe'], signal: opts.signal });
  const stderr = new StderrTail();
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
  child.stdin.on('error', () => undefined); // EPIPE when ffmpeg dies early; reported through its exit code

  let count = 0;
  try {
    let next: IteratorResult<Tensor> = first;
    while (!next.done) {
      const frame = next.value;
      if (frame.dims[0] !== 3 || frame.dims[1] !== fh || frame.dims[2] !== fw || frame.dims.length !== 3) {
        throw new Error(`writeVideo: frame ${count} is [${frame.dims.join(', ')}], expected [3, ${fh}, ${fw}]`);
      }
      opts.signal?.throwIfAborted();
      if (!(await writeChunk(child, Buffer.from(chwToRgb8(frame).buffer), exited))) break;
      count++;
      next = await iterator.next();
    }
    child.stdin.end();
    const code = await exited;
    opts.signal?.throwIfAborted();
    checkFfmpegRun(code, stderr.toString(), path.resolve(outPath), `encode ${outPath}`);
    return count;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await iteratorReturn(iterator);
  }
}

async function iteratorReturn(it: Iterator<Tensor> | AsyncIterator<Tensor>): Promise<void> {
  try {
    await it.return?.();
  } catch {
    // the producer's own cleanup failed; the original error matters more
  }
}

/** Writes with backpressure; resolves false if ffmpeg exited (it can't take more input). */
function writeChunk(child: Encoder, chunk: Buffer, exited: Promise<number | null>): Promise<boolean> {
  if (child.stdin.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onDrain = (): void => resolve(true);
    child.stdin.once('drain', onDrain);
    void exited.then(() => {
      child.stdin.off('drain', onDrain);
      resolve(false);
    });
  });
}

async function muxAudio(
  videoFile: string,
  audioFile: string,
  target: string,
  frameCount: number,
  audio: 'copied' | 'aac',
  opts: WriteOptions,
  outPath: string,
): Promise<void> {
  const seconds = (frameCount * opts.fps.den) / opts.fps.num;
  const start = opts.audioStartSeconds ?? 0;
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error', '-y',
    '-i', fileArg(videoFile),
    ...(start > 0 ? ['-ss', start.toFixed(6)] : []), '-t', seconds.toFixed(6), '-i', fileArg(audioFile),
    '-map', '0:v:0', '-map', '1:a:0',
    '-c:v', 'copy',
    ...(audio === 'copied' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '192k']),
    '-movflags', '+faststart', '-f', 'mp4', fileArg(target),
  ];
  const { code, stderr } = await runTool(ffmpegPath(), args, opts.signal);
  checkFfmpegRun(code, stderr, path.resolve(outPath), `add the audio of ${audioFile}`);
}
