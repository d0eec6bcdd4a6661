/** `--frames-dir`: every output frame as a numbered PNG, for inspection or other tools. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Tensor } from '../tensor.js';
import { chwToRgb8 } from './pixels.js';

export interface FramesPngOptions {
  /** File name prefix; default `frame_`. Files are `<prefix>00000.png`, `<prefix>00001.png`, … */
  prefix?: string;
  startIndex?: number;
}

/** Writes [3,H,W] float frames in [-1, 1] as 8-bit PNGs; returns the paths written. */
export async function writeFramesPng(
  dir: string,
  frames: AsyncIterable<Tensor> | Iterable<Tensor>,
  { prefix = 'frame_', startIndex = 0 }: FramesPngOptions = {},
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  let index = startIndex;
  for await (const frame of frames) {
    const [, height, width] = frame.dims;
    const file = path.join(dir, `${prefix}${String(index).padStart(5, '0')}.png`);
    await sharp(chwToRgb8(frame), { raw: { width, height, channels: 3 } }).png().toFile(file);
    written.push(file);
    index++;
  }
  return written;
}
