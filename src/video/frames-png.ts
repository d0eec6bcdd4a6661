/**
 * `--frames-dir`: every output frame as a numbered PNG, for inspection or other tools. A PNG never replaces a file
 * this run did not write: the names are checked before any work, and each file is created exclusively (O_EXCL), so
 * one that appears meanwhile is not overwritten either. After a failure, what this run wrote is removed again.
 */
import { mkdirSync, readdirSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Tensor } from '../tensor.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import { chwToRgb8 } from './pixels.js';

export interface FramesPngOptions {
  /** File name prefix; default `frame_`. Files are `<prefix>00000.png`, `<prefix>00001.png`, … */
  prefix?: string;
  startIndex?: number;
}

export function framePngName(index: number, prefix = 'frame_'): string {
  return `${prefix}${String(index).padStart(5, '0')}.png`;
}

/** Writes one run's frames into a folder; see the module comment. */
export class FramesPngWriter {
  private readonly written: string[] = [];
  private createdDir = false;

  /**
   * Checks (before any work) that `dir` is a folder or absent and holds none of the `count` names it will write
   * (with `prefix`, and with each of `otherPrefixes`: other kinds of frame, such as the masks).
   */
  constructor(readonly dir: string, count: number, private readonly prefix = 'frame_', private readonly startIndex = 0,
    otherPrefixes: readonly string[] = []) {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw new VideoshopError('frames_dir_not_folder', msg`${option('frames-dir')} ${dir} exists and is not a folder`, { field: 'frames-dir' });
    if (!st) return;
    const present = new Set(readdirSync(dir));
    for (let i = startIndex; i < startIndex + count; i++) {
      const name = [prefix, ...otherPrefixes].map((p) => framePngName(i, p)).find((n) => present.has(n));
      if (name) {
        throw new VideoshopError('frames_dir_not_empty', msg`${option('frames-dir')} ${dir} already holds ${name}: choose an empty folder (nothing there is replaced)`, { field: 'frames-dir' });
      }
    }
  }

  /** Writes frame `index` ([3,H,W] float in [-1, 1]) as an 8-bit PNG; never replaces an existing file. */
  async write(frame: Tensor, index: number, prefix = this.prefix): Promise<string> {
    if (!this.createdDir && !statSync(this.dir, { throwIfNoEntry: false })) {
      mkdirSync(this.dir, { recursive: true });
      this.createdDir = true;
    }
    const [, height, width] = frame.dims;
    const file = path.join(this.dir, framePngName(this.startIndex + index, prefix));
    const png = await sharp(chwToRgb8(frame), { raw: { width, height, channels: 3 } }).png().toBuffer();
    try {
      writeFileSync(file, png, { flag: 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new VideoshopError('frames_dir_not_empty', `${file} appeared while this run wrote its frames: not replaced`);
      if (code === 'ENOSPC') throw new VideoshopError('disk_full', `no space left on the disk of ${this.dir} while writing frame PNGs: free some space`);
      throw new VideoshopError('write_failed', `cannot write ${file}: ${(err as Error).message}`);
    }
    this.written.push(file);
    return file;
  }

  get files(): readonly string[] {
    return this.written;
  }

  /** Removes what this run wrote (and the folder, if this run created it and it is empty). */
  cleanup(): void {
    for (const f of this.written.splice(0)) {
      try {
        unlinkSync(f);
      } catch {
        // already gone
      }
    }
    if (this.createdDir) {
      try {
        rmdirSync(this.dir);
      } catch {
        // not empty: someone else put files there
      }
    }
  }
}

/** Writes [3,H,W] float frames in [-1, 1] as 8-bit PNGs; returns the paths written. Removes them again on failure. */
export async function writeFramesPng(
  dir: string,
  frames: AsyncIterable<Tensor> | Iterable<Tensor>,
  { prefix = 'frame_', startIndex = 0 }: FramesPngOptions = {},
): Promise<string[]> {
  const list: Tensor[] = [];
  for await (const frame of frames) list.push(frame);
  const writer = new FramesPngWriter(dir, list.length, prefix, startIndex);
  try {
    for (const [i, frame] of list.entries()) await writer.write(frame, i);
  } catch (err) {
    writer.cleanup();
    throw err;
  }
  return [...writer.files];
}
