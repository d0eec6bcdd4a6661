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

const RAW_ORIGINAL = (file: string): string[] => ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '1280x720', '-r', '25', '-i', file];
const FPS_VFR = ['-fps_mode', 'vfr', '-video_track_timescale', '1000'];

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
  /** The lossless original of the colour fixtures: 4 frames of testsrc2 1280×720 as raw rgb24. */
  original: () =>
    once('original.rgb', (f) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=25', '-frames:v', '4', '-pix_fmt', 'rgb24', '-f', 'rawvideo', f])),
  /** Lossless RGB (FFV1 gbrp) of the original. */
  rgbLossless: () => once('rgb-lossless.mkv', async (f) => ffmpeg([...RAW_ORIGINAL(await fixtures.original()), '-c:v', 'ffv1', '-pix_fmt', 'gbrp', f])),
  /** The original converted to YUV (lossless FFV1, so only the conversion is lossy), tagged or not. */
  yuv: (matrix: 'bt709' | 'bt601', range: 'tv' | 'pc', pixFmt: string, tagged = true) =>
    once(`yuv-${matrix}-${range}-${pixFmt}-${tagged ? 'tagged' : 'untagged'}.mkv`, async (f) => {
      const space = matrix === 'bt709' ? 'bt709' : 'smpte170m';
      const tags = tagged ? ['-colorspace', space, '-color_primaries', space, '-color_trc', space, '-color_range', range] : [];
      await ffmpeg([...RAW_ORIGINAL(await fixtures.original()),
        '-vf', `scale=out_color_matrix=${matrix}:out_range=${range}:flags=bicubic+accurate_rnd+full_chroma_int,format=${pixFmt}`,
        '-c:v', 'ffv1', ...tags, f]);
    }),
  /** 10 frames at 10 fps, then 10 at 20 fps (1.5 s): variable frame rate, with a 1.5 s tone. */
  vfr: () =>
    once('vfr.mp4', (f) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=128x72:r=20', '-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=1.5',
      '-vf', "trim=end_frame=20,setpts='if(lt(N,10),N*0.1,1+(N-10)*0.05)/TB'", ...FPS_VFR, ...H264, '-c:a', 'aac', '-shortest', f])),
  /** Non-square pixels: 128×72 stored, SAR 4:3. */
  sar: () => once('sar.mp4', (f) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=128x72:r=12', '-frames:v', '6', '-vf', 'setsar=4/3', ...H264, f])),
  /** Small BT.601 full-range clip, tagged. */
  smallPc: () => once('small-pc.mp4', (f) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=160x96:r=12', '-frames:v', '6',
    '-vf', 'scale=out_color_matrix=bt601:out_range=pc,format=yuvj420p', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-colorspace', 'smpte170m', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m', '-color_range', 'pc', f])),
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
