#!/usr/bin/env node
// The main job with the toy model (`--model toy`, trained on synthetic scenes, shipped in models/toy/): a held-out
// synthetic scene (never seen in training) as a short video with audio, its first frame edited (the moving object
// recoloured), then `videoshop edit --model toy`. Everything lands in ./demo/; docs/demo.png shows source frames,
// the edited first frame, the result and the ground truth (the scene re-rendered with the edit) side by side.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import path from 'node:path';
import sharp from 'sharp';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const demo = path.join(root, 'demo');
const cli = path.join(root, 'bin', 'videoshop.js');
const scenesModule = path.join(root, 'dist', 'src', 'scenes', 'index.js');
if (!existsSync(scenesModule)) {
  console.error('demo: not built yet. Run `npm run build` first.');
  process.exit(1);
}
const { sampleScene, renderScene, sampleEdit, heldOutScene } = await import(scenesModule);
mkdirSync(demo, { recursive: true });

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: demo });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const FPS = 8;
const held = heldOutScene(Number(process.env.DEMO_SCENE ?? 0));
const scene = sampleScene(held.seed, { ...held.options, frames: 8 });
const edit = sampleEdit(scene, 'recolor', held.seed);
const source = renderScene(scene);
const truth = renderScene(scene, edit);
const { width: W, height: H } = source;
const frameOf = (clip, t) => Buffer.from(clip.rgb.subarray(t * W * H * 3, (t + 1) * W * H * 3));
const raw = { raw: { width: W, height: H, channels: 3 } };

const srcDir = path.join(demo, 'source-frames');
rmSync(srcDir, { recursive: true, force: true });
mkdirSync(srcDir);
for (let t = 0; t < source.frames; t++) await sharp(frameOf(source, t), raw).png().toFile(path.join(srcDir, `${String(t).padStart(3, '0')}.png`));
await sharp(frameOf(truth, 0), raw).png().toFile(path.join(demo, 'edited-first-frame.png'));
const duration = String(source.frames / FPS);
// Lossless H.264 (yuv444p, qp 0): at 64×64 the usual 4:2:0 chroma would blur the objects' colours.
run('ffmpeg', ['-loglevel', 'error', '-y', '-framerate', String(FPS), '-i', path.join(srcDir, '%03d.png'),
  '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${duration}`, '-c:v', 'libx264', '-qp', '0',
  '-pix_fmt', 'yuv444p', '-c:a', 'aac', '-t', duration, 'source.mp4']);

const outDir = path.join(demo, 'edited-frames');
rmSync(outDir, { recursive: true, force: true });
run(process.execPath, [cli, 'edit', 'source.mp4', '--edited-frame', 'edited-first-frame.png', '--output', 'edited.mp4',
  '--model', 'toy', '--force', '--frames-dir', outDir]);

// docs/demo.png: rows source / result / ground truth, the edited first frame in the result row's first column.
const SCALE = 3;
const tile = async (input) => sharp(input, input instanceof Buffer ? raw : undefined).resize(W * SCALE, H * SCALE, { kernel: 'nearest' }).png().toBuffer();
const results = readdirSync(outDir).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(outDir, f));
const cols = source.frames + 1;
const tiles = [];
for (let t = 0; t < source.frames; t++) {
  tiles.push({ input: await tile(frameOf(source, t)), left: (t + 1) * W * SCALE, top: 0 });
  if (results[t]) tiles.push({ input: await tile(results[t]), left: (t + 1) * W * SCALE, top: H * SCALE });
  tiles.push({ input: await tile(frameOf(truth, t)), left: (t + 1) * W * SCALE, top: 2 * H * SCALE });
}
tiles.push({ input: await tile(frameOf(truth, 0)), left: 0, top: H * SCALE });
const label = (text, top) => ({
  input: Buffer.from(`<svg width="${W * SCALE}" height="${H * SCALE}"><text x="6" y="${H * SCALE / 2}" font-size="15" font-family="sans-serif" fill="#fff">${text}</text></svg>`),
  left: 0, top,
});
tiles.push(label('source', 0), label('ground truth', 2 * H * SCALE));
// demo/comparison.png every run; docs/demo.png (the README's picture) only when asked: a run must not dirty the clone.
const picture = process.env.DEMO_UPDATE_DOCS === '1' ? path.join(root, 'docs', 'demo.png') : path.join(demo, 'comparison.png');
await sharp({ create: { width: cols * W * SCALE, height: 3 * H * SCALE, channels: 3, background: '#202020' } })
  .composite(tiles).png().toFile(picture);
console.log(`demo: ${path.join(demo, 'edited.mp4')} (source.mp4 + edited-first-frame.png → edited.mp4, toy model); ${path.relative(root, picture)}`);
