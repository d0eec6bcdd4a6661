/**
 * Writes web/sample.mp4, the page's sample video (onboarding): a synthetic scene from the toy benchmark's generator
 * (src/scenes, seeded, so the file is reproducible), 3 s at 12 fps, 320×192, H.264 — small enough to ship (~100 kB).
 * Run: node --import tsx scripts/make-sample-video.ts [seed]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderScene, sampleScene } from '../src/scenes/index.js';

const seed = Number(process.argv[2] ?? 7);
const scene = sampleScene(seed, { width: 320, height: 192, frames: 36, objects: 2, pan: false });
const clip = renderScene(scene);
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'web', 'sample.mp4');
const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${clip.width}x${clip.height}`, '-r', '12', '-i', '-',
  '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-crf', '20', '-preset', 'veryslow', '-movflags', '+faststart', out], { input: Buffer.from(clip.rgb) });
if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
console.log(`wrote ${out}`);
