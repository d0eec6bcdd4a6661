/** The bench's input clip: ffmpeg's testsrc2 pattern, and its first frame hue-shifted as "the edit". */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ffmpegPath } from '../../src/video/ffmpeg.js';

function ffmpeg(args: string[]): void {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
}

export function makeClip(dir: string, frames: number, width: number, height: number): { video: string; editedFrame: string } {
  mkdirSync(dir, { recursive: true });
  const video = path.join(dir, `testsrc2-${frames}x${width}x${height}.mp4`);
  const editedFrame = path.join(dir, `edited-${width}x${height}.png`);
  ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=7`, '-frames:v', String(frames),
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-crf', '12', video]);
  ffmpeg(['-i', video, '-frames:v', '1', '-vf', 'hue=h=120', editedFrame]);
  return { video, editedFrame };
}
