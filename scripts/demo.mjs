#!/usr/bin/env node
// The main job on a machine with nothing downloaded: a tiny random SVD, a generated 20-frame video with audio and its
// first frame edited (a red box drawn on it), then `videoshop edit`. Everything lands in ./demo/.
// The tiny model's weights are random, so the output is noise-like: this proves the whole path, not the quality.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const demo = path.join(root, 'demo');
const cli = path.join(root, 'bin', 'videoshop.js');
mkdirSync(demo, { recursive: true });

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: demo });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(path.join(demo, 'source.mp4'))) {
  // Durations on the sources themselves: with `-frames:v` on the output, ffmpeg stops after 23 ms of audio.
  run('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=200x120:rate=12:duration=1.6666667',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=1.6666667', '-c:v', 'libx264',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', 'source.mp4']);
  run('ffmpeg', ['-loglevel', 'error', '-y', '-i', 'source.mp4', '-frames:v', '1', '-vf',
    'drawbox=x=70:y=35:w=60:h=40:color=red:t=fill', 'edited-first-frame.png']);
}
if (!existsSync(path.join(demo, 'tiny-svd', 'model_index.json'))) run(process.execPath, [cli, 'create-tiny-model', 'tiny-svd']);
run(process.execPath, [cli, 'edit', 'source.mp4', '--edited-frame', 'edited-first-frame.png', '--output', 'edited.mp4',
  '--model', 'tiny-svd', '--force']);
console.log(`demo: ${path.join(demo, 'edited.mp4')} (source.mp4 + edited-first-frame.png → edited.mp4, tiny random model)`);
