/**
 * What the `videoshop edit` tests share: a temp workspace per test file holding a tiny random SVD, clips made by
 * ffmpeg's lavfi, edited first frames; probing and decoding outputs; the checks every failed run must pass.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { createTinyModel } from '../../src/models/tiny.js';
import type { CliResult } from '../helpers/cli.js';

const exec = promisify(execFile);

/** Few steps keep each tiny-model edit at a few seconds: ⌊4·0.55⌋ = 2 inversion and 2 denoising steps. */
export const FAST = ['--steps', '4'];

export interface Workspace {
  readonly dir: string;
  /** The tiny model's folder. */
  readonly model: string;
  /** Environment for the CLI: caches inside the workspace, no Hugging Face token, and a Hub that refuses connections. */
  readonly env: Record<string, string | undefined>;
  file(name: string): string;
  /** A fresh empty folder for outputs (`out-1`, `out-2`, …). */
  outDir(): string;
  remove(): void;
}

let outCount = 0;

export function createWorkspace(name: string): Workspace {
  const dir = mkdtempSync(path.join(tmpdir(), `videoshop-${name}-`));
  const model = path.join(dir, 'tiny-svd');
  createTinyModel(model, { seed: 1 });
  return {
    dir,
    model,
    env: {
      VIDEOSHOP_CACHE: path.join(dir, 'cache'),
      HF_HOME: path.join(dir, 'hf-home'),
      // Port 9 (discard) on loopback: a Hub request that a test did not plan for fails at once, and never leaves the machine.
      HF_ENDPOINT: 'http://127.0.0.1:9',
      HF_TOKEN: undefined,
      HUGGING_FACE_HUB_TOKEN: undefined,
      HF_HUB_OFFLINE: undefined,
      HF_HUB_CACHE: undefined,
      HUGGINGFACE_HUB_CACHE: undefined,
      FFMPEG_PATH: undefined,
      FFPROBE_PATH: undefined,
    },
    file: (f) => path.join(dir, f),
    outDir() {
      const d = path.join(dir, `out-${++outCount}`);
      mkdirSync(d);
      return d;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function ffmpeg(args: string[]): Promise<void> {
  await exec('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args]);
}

/** testsrc2 (moving, coloured) at `fps`, H.264; with `audio`, a 440 Hz tone 1 s longer than the video (it gets trimmed). */
export async function makeVideo(file: string, o: { frames: number; fps?: number; size?: string; audio?: boolean }): Promise<string> {
  const fps = o.fps ?? 12;
  const seconds = o.frames / fps + 1;
  await ffmpeg([
    // trim, not -frames:v, which would stop the audio too when the video has enough frames.
    '-f', 'lavfi', '-i', `testsrc2=s=${o.size ?? '200x120'}:r=${fps},trim=end_frame=${o.frames}`,
    ...(o.audio ? ['-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${seconds}`] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    ...(o.audio ? ['-c:a', 'aac'] : []), file,
  ]);
  return file;
}

/** The video's first frame as a PNG, as a user exports it with ffmpeg; `box` draws a filled red box on it (the edit). */
export async function firstFrame(video: string, file: string, o: { box?: boolean; scale?: string } = {}): Promise<string> {
  const filters = [
    ...(o.box ? ['drawbox=x=40:y=30:w=60:h=40:color=red:t=fill'] : []),
    ...(o.scale ? [`scale=${o.scale}`] : []),
  ];
  await ffmpeg(['-i', video, '-frames:v', '1', ...(filters.length ? ['-vf', filters.join(',')] : []), file]);
  return file;
}

export interface ProbedOutput {
  frames: number;
  fps: string;
  width: number;
  height: number;
  codec: string;
  audio: boolean;
  /** Duration of the audio stream in seconds (0 without audio). */
  audioSeconds: number;
}

export async function probe(file: string): Promise<ProbedOutput> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-count_packets', '-show_streams', '-of', 'json', file]);
  const streams = (JSON.parse(stdout) as { streams: Record<string, string | number>[] }).streams;
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  assert.ok(video, `${file} has a video stream`);
  return {
    frames: Number(video.nb_read_packets),
    fps: String(video.r_frame_rate),
    width: Number(video.width),
    height: Number(video.height),
    codec: String(video.codec_name),
    audio: audio !== undefined,
    audioSeconds: audio ? Number(audio.duration) : 0,
  };
}

/** Every frame of a video decoded to raw rgb24, concatenated. */
export async function decodeRgb(file: string): Promise<Buffer> {
  const { stdout } = await exec('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** A PNG's pixels and size. */
export async function readPng(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean |a − b| over all bytes, in 8-bit levels. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

export function files(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * A failed run as the user must see it: a non-zero exit, exactly one line on stderr, `videoshop: <message>`,
 * no stack trace, nothing on stdout; and `outDir` holds exactly `expectFiles` (no output, no temp file).
 */
export function assertRefused(r: CliResult, message: RegExp, outDir: string, expectFiles: string[] = []): void {
  const context = `exit ${r.code}, stderr:\n${r.stderr}`;
  assert.notEqual(r.code, 0, context);
  assert.equal(r.signal, null, context);
  assert.ok(!/^ {4}at /m.test(r.stderr), `no stack trace: ${context}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `one line on stderr: ${context}`);
  assert.match(lines[0], /^videoshop: /);
  assert.match(lines[0], message);
  assert.equal(r.stdout, '');
  assert.deepEqual(files(outDir), expectFiles, 'no output and no temp file in the output folder');
}
