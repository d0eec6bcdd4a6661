/**
 * One frame of a video as a PNG at the video's display size (rotation applied), decoded by readFrames — the very
 * code `edit` reads with — so the frame a user edits is the frame the pipeline sees. 8-bit sources give an 8-bit
 * PNG with exactly the decoded bytes; deeper sources a 16-bit PNG.
 */
import { existsSync, renameSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Tensor } from '../tensor.js';
import { readsDeep } from './colour.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import { ffmpegPath, fileArg, lastErrorLine, StderrTail } from './ffmpeg.js';
import { chwToRgb48, chwToRgb8 } from './pixels.js';
import { probeVideo, type VideoInfo } from './probe.js';
import { readFrames } from './read.js';
import { frameTime, segmentFrames } from './timing.js';
import { assertNotInput } from './write.js';
import { spawn } from 'node:child_process';

export interface ExportFrameOptions {
  /** 0-based frame index (default 0). */
  index?: number;
  /** Or a time in seconds from the first frame: the first frame at or after it. */
  time?: number;
  /** Replace an existing output. */
  force?: boolean;
  signal?: AbortSignal;
}

export interface ExportedFrame {
  path: string;
  index: number;
  seconds: number;
  width: number;
  height: number;
  bitDepth: 8 | 16;
}

export async function exportFrame(video: string, outPath: string, opts: ExportFrameOptions = {}): Promise<ExportedFrame> {
  if (opts.index !== undefined && opts.time !== undefined) throw new VideoshopError('bad_input', 'give either a frame index or a time, not both');
  if (path.extname(outPath).toLowerCase() !== '.png') throw new VideoshopError('bad_input', `output ${outPath} must end in .png`);
  assertNotInput(outPath, [video]);
  if (existsSync(outPath) && !opts.force) throw new VideoshopError('output_exists', msg`${outPath} already exists: choose another output or pass ${option('force', true)} to replace it`);
  const dir = path.dirname(path.resolve(outPath));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new VideoshopError('bad_input', `output folder ${dir} does not exist`);
  const info = await probeVideo(video);
  const index = opts.time !== undefined ? segmentFrames(info, opts.time).start : opts.index ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= info.frameCount) {
    throw new VideoshopError('bad_input', `frame ${index} does not exist: ${video} has frames 0–${info.frameCount - 1}`);
  }
  let frame: Tensor | undefined;
  for await (const f of readFrames(video, { width: info.width, height: info.height, start: index, count: 1, info, signal: opts.signal })) frame = f;
  if (!frame) throw new VideoshopError('bad_input', `could not decode frame ${index} of ${video}`);
  const deep = readsDeep(info);
  const temp = path.join(dir, `.${path.basename(outPath)}.tmp-${process.pid}.png`);
  try {
    await encodePng(temp, frame, info, deep);
    const meta = await sharp(temp).metadata();
    if (meta.width !== info.width || meta.height !== info.height || meta.depth !== (deep ? 'ushort' : 'uchar')) {
      throw new VideoshopError('bad_input', `the PNG written for frame ${index} did not read back as ${info.width}×${info.height}`);
    }
    renameSync(temp, path.resolve(outPath));
  } finally {
    if (existsSync(temp)) unlinkSync(temp);
  }
  return { path: path.resolve(outPath), index, seconds: frameTime(info, index), width: info.width, height: info.height, bitDepth: deep ? 16 : 8 };
}

/** PNG through ffmpeg's encoder (lossless at 8 and 16 bits) from the frame's interleaved RGB. */
function encodePng(target: string, frame: Tensor, info: VideoInfo, deep: boolean): Promise<void> {
  const bytes = deep ? chwToRgb48(frame) : Buffer.from(chwToRgb8(frame).buffer);
  const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', deep ? 'rgb48le' : 'rgb24',
    '-video_size', `${info.width}x${info.height}`, '-i', 'pipe:0', '-frames:v', '1', '-c:v', 'png', '-f', 'image2', '-update', '1', fileArg(target)];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const stderr = new StderrTail();
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new VideoshopError('bad_input', `ffmpeg could not write ${target}: ${lastErrorLine(stderr.toString())}`))));
    child.stdin.end(bytes);
  });
}
