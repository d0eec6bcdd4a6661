/**
 * Variable-rate sources whose gaps grow (doubling, steadily, to 10×, a 40 s pause, frames closer than a
 * millisecond) go through the real read → write → verify path and keep every frame at its time: within one tick of
 * the output's time base (1/90000 s in MP4, 1 ms in Matroska). Written with the default preset (medium: B-frames),
 * with which such a video used to be refused as "failed its check … check the disk" (see FRAME_TIME_BASE and
 * verifyVideoFile). 64×48 and a handful of frames each, so they stay fast.
 */
import { renderParts } from '../../src/util/errors.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Tensor } from '../../src/tensor.js';
import { probeVideo } from '../../src/video/probe.js';
import { readFrames } from '../../src/video/read.js';
import { frameTimes } from '../../src/video/timing.js';
import { writeVideo } from '../../src/video/write.js';
import { dir } from './fixtures.js';

const run = promisify(execFile);
const outDir = mkdtempSync(path.join(dir, 'vfr-gaps-'));
const TICK: Record<string, number> = { '.mp4': 1 / 90000, '.mkv': 1 / 1000 };

/** 64×48 testsrc2 with frame `N` at `expr` seconds, in a 1/90000 MP4 or a (millisecond) Matroska file. */
async function source(name: string, frames: number, expr: string): Promise<string> {
  const file = path.join(outDir, name);
  const timeBase = name.endsWith('.mp4') ? ['-enc_time_base', '1:90000', '-video_track_timescale', '90000'] : ['-enc_time_base', '1:1000'];
  await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=25',
    '-vf', `trim=end_frame=${frames},settb=1/90000,setpts='(${expr})/TB'`, '-fps_mode', 'vfr', ...timeBase,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file]);
  return file;
}

/** Reads `src`, writes it to `name` with its frame times as the edit does, and compares them frame by frame. */
async function roundTrip(src: string, name: string, want?: readonly number[]): Promise<{ got: readonly number[]; notes: string[] }> {
  const info = await probeVideo(src);
  const timestamps = frameTimes(info);
  assert.ok(timestamps, `${src} is variable-rate`);
  if (want) timestamps.times.forEach((t, i) => assert.ok(Math.abs(t - want[i]) < 1e-3, `${src} frame ${i} at ${t}, made at ${want[i]}`));
  const frames: Tensor[] = [];
  for await (const f of readFrames(src, { width: info.width, height: info.height, info })) frames.push(f);
  const out = path.join(outDir, `out-${name}`);
  const result = await writeVideo(out, frames, { width: info.width, height: info.height, fps: info.fps, look: info, timestamps });
  const back = await probeVideo(out);
  assert.equal(back.frameCount, info.frameCount, `${name}: frame count`);
  const got = frameTimes(back)?.times ?? [];
  assert.equal(got.length, timestamps.times.length, `${name}: frame times`);
  if (result.notes.length === 0) {
    const tick = TICK[path.extname(name)];
    got.forEach((t, i) => assert.ok(Math.abs(t - timestamps.times[i]) <= tick + 1e-9,
      `${name} frame ${i}: ${t.toFixed(6)} s, the source's ${timestamps.times[i].toFixed(6)} s`));
  }
  return { got, notes: result.notes.map((n) => renderParts(n)) };
}

describe('variable-rate sources with growing gaps', () => {
  const doubling = [0, 0.04, 0.12, 0.28, 0.6, 1.24, 2.52, 5.08];

  it('gaps doubling (40 ms … 2.56 s), from .mp4 and .mkv into .mp4 and .mkv: every frame at its time', async () => {
    for (const ext of ['mp4', 'mkv']) {
      const src = await source(`doubling.${ext}`, 8, '0.04*(pow(2,N)-1)');
      for (const out of ['mp4', 'mkv']) assert.deepEqual((await roundTrip(src, `doubling-${ext}.${out}`, doubling)).notes, []);
    }
  });

  it('gaps growing steadily (2, 4, 6 … 22 ms), and doubling from 1 ms to 4 s (rounded to the rate ffmpeg guessed, 3/4 s, most piled onto 0 s)', async () => {
    const steady = await source('steady.mp4', 12, '0.001*N*(N+1)');
    await roundTrip(steady, 'steady.mp4', Array.from({ length: 12 }, (_, n) => 0.001 * n * (n + 1)));
    const fromMs = await source('from-1ms.mp4', 13, '0.001*(pow(2,N)-1)');
    await roundTrip(fromMs, 'from-1ms.mkv', Array.from({ length: 13 }, (_, n) => 0.001 * (2 ** n - 1)));
  });

  it('extremes: gaps growing to 10× and a 40 s pause (beyond a Matroska cluster\'s 32.7 s of block offsets)', async () => {
    const times = [0, 0.04, 0.08, 0.48, 0.88, 40.88, 40.92];
    const src = await source('pause.mp4', 7, 'if(lt(N,3),N*0.04,if(lt(N,5),0.08+(N-2)*0.4,40.88+(N-5)*0.04))');
    for (const out of ['mp4', 'mkv']) assert.deepEqual((await roundTrip(src, `pause.${out}`, times)).notes, []);
  });

  it('frames closer than a millisecond: exact in .mp4, a tick apart in .mkv (with a note), none lost', async () => {
    const times = [0, 0.0004, 0.0008, 0.1012, 0.1016, 0.102];
    const src = await source('crowded.mp4', 6, 'N*0.0004+floor(N/3)*0.1');
    assert.deepEqual((await roundTrip(src, 'crowded-out.mp4', times)).notes, []);
    const mkv = await roundTrip(src, 'crowded.mkv', times);
    assert.deepEqual(mkv.got.map((t) => +t.toFixed(6)), [0, 0.001, 0.002, 0.101, 0.102, 0.103]);
    assert.match(mkv.notes.join(' '), /^3 frames were closer than 1\/1000 s \(the time step of \.mkv\) to the frame before and moved later by up to 1\.200 ms \(\.mp4 and \.mov store 1\/90000 s\)$/);
  });
});
