/**
 * Encoding frames with ffmpeg (container and codec from the extension, see encode-args.ts): exact frame rate and
 * count (or every frame's own timestamp), the source's audio, written into a hidden temp file that counts only once
 * verified, then installed without replacing what the caller did not allow (output-file.ts), so a failed or
 * cancelled run never leaves a half-written output.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Tensor } from '../tensor.js';
import { VideoshopError, type MessagePart } from '../util/errors.js';
import { StderrTail, ffmpegPath, fileArg, passthroughArgs, runTool } from './ffmpeg.js';
import { checkFfmpegRun, checkOutputTarget, installFile, nextRun, removeQuietly, tempPathFor, verifyVideoFile } from './output-file.js';
import { FRAME_TIME_BASE, encodeArgs, muxArgs, planAudio, planEncode, rotationTag, type AudioChoice, type AudioResult, type Container, type EncodePlan, type SourceLook, type VideoCodec } from './encode-args.js';
import { mkvFrame, mkvHeader } from './mkv-pipe.js';
import { chwToRgb48, chwToRgb8 } from './pixels.js';
import { probeAudioCodec, type Rational } from './probe.js';
import { placeTimes, type PlacedTimes } from './timing.js';

export interface WriteOptions {
  /** Output (display) size; H.264/HEVC pad an odd side by one pixel (encode-args.ts), reported in `notes`. */
  width: number;
  height: number;
  fps: Rational;
  /** Size of the incoming frames (default: the first frame's); ffmpeg scales them to width×height. */
  frameWidth?: number;
  frameHeight?: number;
  /** A media file whose first audio stream is copied in (re-encoded to AAC if MP4 can't hold it), trimmed to the video. */
  audioFrom?: string;
  /**
   * `audioFrom` already has the video's length (an earlier result of the same video): its audio is taken whole, not
   * cut again at the last frame's end (a copied stream would lose the packet that straddles it).
   */
  audioWhole?: boolean;
  /**
   * The output may be `audioFrom` itself, with `overwrite` (an earlier result replaced by its re-rendered copy): it is
   * read to the end before the new file is installed over it.
   */
  replaceAudioSource?: boolean;
  /** Where the first frame sits after the container's start, in seconds (an earlier result's own, kept): default 0. */
  videoStartSeconds?: number;
  /** Where in `audioFrom` the audio starts, in seconds (when the edit starts at a later frame). */
  audioStartSeconds?: number;
  /** Constant rate factor; default 18 for H.264 (visually near-lossless), 20 HEVC, 31 VP9; FFV1 is lossless. */
  crf?: number;
  /** x264/x265 preset (or libvpx speed 0–8); default `medium`. */
  preset?: string;
  /** Video codec; default H.264 (VP9 for .webm). */
  codec?: VideoCodec;
  /** The source's audio: `copy` (default; re-encoded when the container can't hold it), `aac`, or `none`. */
  audio?: AudioChoice;
  /** Colour tags, pixel aspect ratio and rotation to carry over (usually the source's VideoInfo). */
  look?: SourceLook;
  /**
   * Every frame's time in seconds from the first, and the end of the last frame: written as they are (VFR), to the
   * nearest tick of the container's time base (FRAME_TIME_BASE; frames closer than a tick move on by one, in `notes`).
   */
  timestamps?: { readonly times: readonly number[]; readonly end: number };
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
  audio: AudioResult;
  /** Things the user should know (odd size padded, audio re-encoded). */
  /** Things the user should know, as message parts (see encode-args.ts). */
  notes: MessagePart[][];
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

/** Whether two paths name one file (symlinks and hard links resolved). */
export function sameFile(a: string, b: string): boolean {
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
      throw new VideoshopError('bad_input', `refusing to overwrite the input: ${outPath} is ${input}; choose another output path`);
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
}

/** Encodes `frames` ([3,H,W] float RGB in [-1, 1]) to `outPath`. */
export async function writeVideo(
  outPath: string,
  frames: AsyncIterable<Tensor> | Iterable<Tensor>,
  opts: WriteOptions,
): Promise<WriteResult> {
  checkOptions(opts);
  const inputs = [...(opts.inputs ?? []), ...(opts.audioFrom && !(opts.overwrite && opts.replaceAudioSource) ? [opts.audioFrom] : [])];
  assertNotInput(outPath, inputs);
  checkOutputTarget(outPath, { overwrite: opts.overwrite });
  if (opts.signal?.aborted) throw abortError(outPath);

  const plan = planEncode(outPath, opts.width, opts.height, opts, opts.look);
  const notes = [...plan.notes];
  // Frame times go to ffmpeg as whole ticks of the container's time base: what is encoded is what gets stored.
  const tb = FRAME_TIME_BASE[plan.container];
  const placed = opts.timestamps && placeTimes(opts.timestamps, tb);
  if (placed?.pushed) notes.push([crowdedNote(placed, plan.container)]);
  const written: WriteOptions = placed ? { ...opts, timestamps: placed } : opts;
  const audioCodec = opts.audioFrom && opts.audio !== 'none' ? await probeAudioCodec(opts.audioFrom) : undefined;
  const { audio, note } = planAudio(plan.container, audioCodec, opts.audio, (opts.audioStartSeconds ?? 0) > 0);
  if (note) notes.push([note]);
  const size = { width: plan.width, height: plan.height };

  const run = nextRun();
  const finalTemp = tempPathFor(outPath, run);
  // With audio, the video is encoded first and muxed with the audio trimmed to its exact length afterwards
  // (the frame count is only known once the frame stream ends); a rotation flag also needs that second step.
  const rotation = rotationTag(plan, opts.look);
  const remux = audio !== 'none' || rotation !== undefined;
  const videoTemp = remux ? tempPathFor(outPath, run, '-video') : finalTemp;
  try {
    const frameCount = await encodeFrames(videoTemp, frames, plan, written, !remux, outPath);
    if (remux) {
      await muxAudio(videoTemp, opts.audioFrom, finalTemp, frameCount, audio, plan, written, outPath);
      removeQuietly(videoTemp);
    }
    await verifyVideoFile(finalTemp, path.resolve(outPath),
      { ...size, frameCount, fps: opts.fps, seconds: writtenSeconds(frameCount, written),
        times: placed?.times.slice(0, frameCount), tick: placed && tb.num / tb.den, audio: audio !== 'none' });
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

/** Frames closer together than the container's tick: moved on by a tick each, so that none shares another's time. */
function crowdedNote(placed: PlacedTimes, container: Container): string {
  const tick = FRAME_TIME_BASE[container];
  const finer = container === 'mkv' || container === 'webm' ? ' (.mp4 and .mov store 1/90000 s)' : '';
  return `${placed.pushed} frame${placed.pushed === 1 ? ' was' : 's were'} closer than ${tick.num}/${tick.den} s (the time step of .${container}) ` +
    `to the frame before and moved later by up to ${(placed.moved * 1000).toFixed(3)} ms${finer}`;
}

function abortError(outPath: string): VideoshopError {
  const err = new VideoshopError('cancelled', `writing ${outPath} was cancelled; nothing was written`);
  err.name = 'AbortError';
  return err;
}

type Encoder = ChildProcessByStdio<Writable, null, Readable>;

async function encodeFrames(
  target: string,
  frames: AsyncIterable<Tensor> | Iterable<Tensor>,
  plan: EncodePlan,
  opts: WriteOptions,
  final: boolean,
  outPath: string,
): Promise<number> {
  const iterator = Symbol.asyncIterator in frames ? frames[Symbol.asyncIterator]() : frames[Symbol.iterator]();
  const first = await iterator.next();
  if (first.done) throw new VideoshopError('bad_input', 'no frames to write');
  const [channels, fh, fw] = first.value.dims;
  if (first.value.dims.length !== 3 || channels !== 3) {
    throw new Error(`writeVideo: frames must be [3,H,W], got [${first.value.dims.join(', ')}]`);
  }
  if ((opts.frameWidth !== undefined && opts.frameWidth !== fw) || (opts.frameHeight !== undefined && opts.frameHeight !== fh)) {
    throw new Error(`writeVideo: frames are ${fw}×${fh}, not the announced ${opts.frameWidth}×${opts.frameHeight}`);
  }
  const timestamped = opts.timestamps !== undefined;
  const args = encodeArgs(fileArg(target), plan, {
    frameWidth: fw, frameHeight: fh, width: opts.width, height: opts.height, fps: opts.fps, timestamped,
    passthrough: await passthroughArgs(), final,
  }, opts.look);
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
      const pixels = plan.depth === 16 ? chwToRgb48(frame) : chwToRgb8(frame);
      if (!(await writeChunk(child, framePayload(pixels, count, fw, fh, plan.depth, opts), exited))) break;
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

/** Raw RGB bytes, or (with timestamps) a Matroska cluster holding them, the stream's header before the first. */
function framePayload(rgb: Uint8Array, index: number, width: number, height: number, depth: 8 | 16, opts: WriteOptions): Buffer {
  const ts = opts.timestamps;
  if (!ts) return Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  if (index >= ts.times.length) throw new Error(`writeVideo: frame ${index} has no timestamp (${ts.times.length} given)`);
  const us = (t: number): number => Math.round(t * 1e6);
  const end = index + 1 < ts.times.length ? ts.times[index + 1] : ts.end;
  const parts = mkvFrame(rgb, us(ts.times[index]), us(end) - us(ts.times[index]));
  return Buffer.concat(index === 0 ? [mkvHeader(width, height, depth), ...parts] : parts);
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
  audioFile: string | undefined,
  target: string,
  frameCount: number,
  audio: AudioResult,
  plan: EncodePlan,
  opts: WriteOptions,
  outPath: string,
): Promise<void> {
  const seconds = opts.audioWhole ? undefined : writtenSeconds(frameCount, opts);
  const source = audioFile && audio !== 'none' ? { file: fileArg(audioFile), audio, startSeconds: opts.audioStartSeconds ?? 0, seconds } : undefined;
  const args = muxArgs(fileArg(videoFile), source, fileArg(target), plan.container, rotationTag(plan, opts.look), opts.videoStartSeconds);
  const { code, stderr } = await runTool(ffmpegPath(), args, opts.signal);
  checkFfmpegRun(code, stderr, path.resolve(outPath), source ? `add the audio of ${audioFile}` : 'finish the file');
}

/** How long `frameCount` frames last: from their own timestamps (VFR) or the constant rate. */
function writtenSeconds(frameCount: number, opts: WriteOptions): number {
  const ts = opts.timestamps;
  if (ts) return frameCount < ts.times.length ? ts.times[frameCount] : ts.end;
  return (frameCount * opts.fps.den) / opts.fps.num;
}
