/** Test clips and images generated with ffmpeg's lavfi sources into a temp folder (once per test process). */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const dir = mkdtempSync(path.join(tmpdir(), 'videoshop-video-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** 20 frames of testsrc2 at 12 fps, 200×120, with a 2 s 440 Hz tone (longer than the video). */
const PATTERN = ['-f', 'lavfi', '-i', 'testsrc2=s=200x120:r=12,trim=end_frame=20', '-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=2'];

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args]);
}

const cache = new Map<string, Promise<string>>();

function once(name: string, make: (file: string) => Promise<void>): Promise<string> {
  let p = cache.get(name);
  if (!p) {
    const file = path.join(dir, name);
    p = make(file).then(() => file);
    cache.set(name, p);
  }
  return p;
}

const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

export const fixtures = {
  mp4: () => once('clip.mp4', (f) => ffmpeg([...PATTERN, ...H264, '-c:a', 'aac', f])),
  /** Same clip with the index up front, so cutting it in half keeps a readable header. */
  mp4Faststart: () =>
    once('faststart.mp4', (f) => ffmpeg([...PATTERN, ...H264, '-c:a', 'aac', '-movflags', '+faststart', f])),
  mov: () => once('clip.mov', (f) => ffmpeg([...PATTERN, ...H264, '-c:a', 'pcm_s16le', f])),
  webm: () =>
    once('clip.webm', (f) =>
      ffmpeg([...PATTERN, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus', f])),
  avi: () => once('clip.avi', (f) => ffmpeg([...PATTERN, '-c:v', 'mpeg4', '-c:a', 'libmp3lame', f])),
  gif: () => once('clip.gif', (f) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=200x120:r=12', '-frames:v', '20', f])),
  /** Odd sides need 4:4:4 (4:2:0 can't be odd; testsrc2 rounds its size to even, testsrc doesn't). */
  odd: () =>
    once('odd.mp4', (f) =>
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc=s=99x57:r=12', '-frames:v', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p', f])),
  /** Stored 200×120 and flagged to be shown rotated by 90°. */
  rotated: () =>
    once('rotated.mp4', async (f) => {
      const src = await fixtures.mp4();
      try {
        await ffmpeg(['-display_rotation:v:0', '90', '-i', src, '-c', 'copy', f]); // ffmpeg ≥ 6
      } catch {
        await ffmpeg(['-i', src, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', f]); // older ffmpeg
      }
    }),
  /** Pure red, 64×48, 4 frames. */
  red: () =>
    once('red.mp4', (f) => ffmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=64x48:r=12', '-frames:v', '4', ...H264, f])),
  /** 30000/1001 fps. */
  ntsc: () =>
    once('ntsc.mp4', (f) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=128x72:r=30000/1001', '-frames:v', '10', ...H264, f])),
  /** A video stream whose every packet was dropped (audio kept). */
  zeroFrames: () =>
    once('zero-frames.mkv', async (f) => {
      const src = await fixtures.mp4();
      try {
        await ffmpeg(['-i', src, '-c', 'copy', '-bsf:v', 'noise=drop=1', f]); // ffmpeg ≥ 6
      } catch {
        await ffmpeg(['-i', src, '-c', 'copy', '-bsf:v', 'noise=dropamount=1', f]);
      }
    }),
  audioOnly: () => once('tone.mp3', (f) => ffmpeg(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'libmp3lame', f])),
  /** First half of the bytes of an mp4 whose index sits at the end. */
  truncatedNoIndex: () => once('truncated-noindex.mp4', async (f) => halfOf(await fixtures.mp4(), f)),
  /** First half of the bytes of a faststart mp4 (index complete, media data cut). */
  truncated: () => once('truncated.mp4', async (f) => halfOf(await fixtures.mp4Faststart(), f)),
  empty: () => once('empty.mp4', async (f) => writeFileSync(f, '')),
  text: () => once('text.mp4', async (f) => writeFileSync(f, 'this is not a video, just some text\n'.repeat(20))),
};

function halfOf(src: string, dst: string): void {
  const bytes = readFileSync(src);
  writeFileSync(dst, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

/** writeVideo's temp files left in a folder (there should be none). */
export function tempFilesIn(folder: string): string[] {
  return readdirSync(folder).filter((n) => n.includes('.tmp-'));
}
