/**
 * What the safety checks cost, next to the work they guard (docs/reliability.md):
 *
 *   node --import tsx bench/safety-checks.ts --json                 # 1920×1080 × 300 frames
 *   node --import tsx bench/safety-checks.ts --size 1280x720 --frames 1200 --json
 *
 * Makes (once, into --work, default .cache/bench-safety) an H.264 clip (testsrc2, x264 veryfast, yuv420p), then times:
 * - `probeMs`: probeVideo (ffprobe -count_packets: demux only), what every edit always did;
 * - `decodeCheckMs`: checkDecodable (ffprobe -count_frames: a full decode, no conversion), the check before the model;
 * - `ffmpegNullMs`: `ffmpeg -i clip -f null -`, one plain decoding pass, for scale;
 * - `verifyMs`: verifyVideoFile on the clip (ffprobe -count_packets of the finished temp file, before install);
 * and `decodeCheckPerFrameMs`. Wall-clock on a shared machine: noisy.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runFfmpeg as run, timed } from './ffmpeg-run.js';
import { checkDecodable } from '../src/video/decode-check.js';
import { verifyVideoFile } from '../src/video/output-file.js';
import { probeVideo } from '../src/video/probe.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    size: { type: 'string', default: '1920x1080' },
    frames: { type: 'string', default: '300' },
    work: { type: 'string', default: '.cache/bench-safety' },
  },
});

const frames = Number(values.frames);
mkdirSync(values.work, { recursive: true });
const clip = path.join(values.work, `clip-${values.size}-${frames}.mp4`);
if (!existsSync(clip)) {
  const tmp = `${clip}.tmp.mp4`;
  await run(['-f', 'lavfi', '-i', `testsrc2=s=${values.size}:r=30,trim=end_frame=${frames}`, '-c:v', 'libx264', '-preset', 'veryfast',
    '-pix_fmt', 'yuv420p', '-y', tmp]);
  renameSync(tmp, clip);
}
const info = await probeVideo(clip);
const probeMs = await timed(() => probeVideo(clip));
const decodeCheckMs = await timed(() => checkDecodable(info));
const ffmpegNullMs = await timed(() => run(['-i', clip, '-map', '0:v:0', '-f', 'null', '-']));
const verifyMs = await timed(() => verifyVideoFile(clip, clip, {
  width: info.width, height: info.height, frameCount: info.frameCount, fps: info.fps, audio: false,
}));
const result = {
  clip: { size: values.size, frames: info.frameCount }, probeMs, decodeCheckMs, ffmpegNullMs, verifyMs,
  decodeCheckPerFrameMs: Number((decodeCheckMs / info.frameCount).toFixed(3)),
};
if (values.json) console.log(JSON.stringify(result));
else console.log(result);
