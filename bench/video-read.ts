/**
 * Reading speed of the video reader (src/video/read.ts) against one plain ffmpeg decoding pass.
 *
 *   node --import tsx bench/video-read.ts --json                       # 1920×1080 × 1200 frames → 1024×576
 *   node --import tsx bench/video-read.ts --size 1280x720 --frames 300 --json
 *
 * Makes (once, into --work, default .cache/bench-video) an H.264 test clip of --size × --frames (testsrc2, x264
 * `veryfast`, yuv420p, tagged BT.709), then times:
 * - `ffmpegNullMs`: `ffmpeg -i clip -f null -` (decoding only, what one pass costs at the least);
 * - `ffmpegRgbMs`: ffmpeg decoding + the same RGB conversion and resize as the reader, to /dev/null;
 * - `readFramesMs`: `readFrames` to the processing size (--to, default 1024x576), every frame turned into the
 *   pipeline's [3,H,W] float tensors in this process, `resize` fast (--resize antialias for the other one);
 * - `blocksMs`: the same through `framesInBlocks` with SVD's 14-frame blocks overlapping by 4, as editVideo reads;
 * and `readVsNull` = readFramesMs / ffmpegNullMs. With --legacy also `legacyMs`: the reader before issue 10, which
 * restarted ffmpeg for each block and decoded from frame 0 (`trim`), as 16-bit RGB — quadratic in length (issue 10
 * measured 612 s of reading for 1200 1080p frames against 55 s for one pass). Timings are wall-clock: noisy on a
 * shared machine.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runFfmpeg as run, timed } from './ffmpeg-run.js';
import { framesInBlocks } from '../src/edit/block-frames.js';
import { planBlocks } from '../src/pipeline/blocks.js';
import { toRgbFilter } from '../src/video/colour.js';
import { probeVideo } from '../src/video/probe.js';
import { readFrames, SCALE_FLAGS, type ResizeMode } from '../src/video/read.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    size: { type: 'string', default: '1920x1080' },
    frames: { type: 'string', default: '1200' },
    to: { type: 'string', default: '1024x576' },
    resize: { type: 'string', default: 'fast' },
    work: { type: 'string', default: '.cache/bench-video' },
    legacy: { type: 'boolean', default: false },
  },
});

function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new Error(`bad size ${text}, expected WxH`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

const src = parseSize(values.size);
const to = parseSize(values.to);
const frames = Number(values.frames);
const resize = values.resize as ResizeMode;
mkdirSync(values.work, { recursive: true });
const clip = path.join(values.work, `testsrc2-${src.width}x${src.height}-${frames}.mp4`);
const log = (m: string): boolean => process.stderr.write(`${m}\n`);
if (!existsSync(clip)) {
  log(`making ${clip}…`);
  const tmp = `${clip}.tmp.mp4`;
  await run(['-f', 'lavfi', '-i', `testsrc2=s=${src.width}x${src.height}:r=30000/1001`, '-frames:v', String(frames),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-color_primaries', 'bt709',
    '-color_trc', 'bt709', '-y', tmp]);
  renameSync(tmp, clip);
}
const info = await probeVideo(clip);
log('ffmpeg -f null…');
const ffmpegNullMs = await timed(() => run(['-i', clip, '-f', 'null', '-']));
log('ffmpeg to rgb24 at the processing size…');
const ffmpegRgbMs = await timed(() => run(['-i', clip, '-vf', `${toRgbFilter(info)},scale=${to.width}:${to.height}:flags=${SCALE_FLAGS}`,
  '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-y', '/dev/null']));
let n = 0;
log('readFrames…');
const readFramesMs = await timed(async () => {
  for await (const _f of readFrames(clip, { ...to, info, resize })) n++;
});
if (n !== info.frameCount) throw new Error(`read ${n} of ${info.frameCount} frames`);
log('framesInBlocks…');
const blocks = planBlocks(info.frameCount, 14, 4);
let blockCount = 0;
const blocksMs = await timed(async () => {
  for await (const _b of framesInBlocks(readFrames(clip, { ...to, info, resize }), blocks)) blockCount++;
});
/** The old reader's per-block ffmpeg runs (same filters and output as before issue 10), output drained. */
async function legacyRead(): Promise<void> {
  const old = 'bilinear+accurate_rnd+full_chroma_int';
  for (const b of blocks) {
    const vf = `trim=start_frame=${b.start}:end_frame=${b.end},scale=flags=${old},format=rgb48le,scale=${to.width}:${to.height}:flags=${old},format=rgb48le`;
    await run(['-i', clip, '-vf', vf, '-fps_mode', 'passthrough', '-frames:v', String(b.end - b.start), '-f', 'rawvideo', '-pix_fmt', 'rgb48le', '-y', '/dev/null']);
  }
}
let legacyMs: number | undefined;
if (values.legacy) {
  log('legacy per-block reader…');
  legacyMs = await timed(legacyRead);
}
const result = {
  clip: { width: src.width, height: src.height, frames: info.frameCount, codec: info.codec, pixFmt: info.pixFmt },
  to, resize, blocks: blockCount,
  ffmpegNullMs, ffmpegRgbMs, readFramesMs, blocksMs,
  legacyMs,
  readVsNull: Number((readFramesMs / ffmpegNullMs).toFixed(2)),
  blocksVsNull: Number((blocksMs / ffmpegNullMs).toFixed(2)),
  cpus: os.cpus().length, loadAvg1: Number(os.loadavg()[0].toFixed(2)),
};
if (values.json) console.log(JSON.stringify(result, null, 2));
else log(JSON.stringify(result));
