import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Tensor } from '../../src/tensor.js';
import { readImage } from '../../src/video/image.js';
import { writeFramesPng } from '../../src/video/frames-png.js';
import { probeVideo } from '../../src/video/probe.js';
import { readFrames } from '../../src/video/read.js';
import { evenSize, writeVideo } from '../../src/video/write.js';
import { runTool, ffprobePath } from '../../src/video/ffmpeg.js';
import { dir, fixtures, tempFilesIn } from './fixtures.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function solid(width: number, height: number, rgb: [number, number, number]): Tensor {
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) data.fill(rgb[c], c * plane, (c + 1) * plane);
  return { data, dims: [3, height, width] };
}

function outDir(): string {
  return mkdtempSync(path.join(dir, 'out-'));
}

async function audioDuration(file: string): Promise<number> {
  const args = ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=duration', '-of', 'csv=p=0', file];
  return Number((await runTool(ffprobePath(), args)).stdout.trim());
}

describe('writeVideo', () => {
  it('round-trips: exact frame count, fps, source size, AAC audio copied and trimmed to the video', async () => {
    const src = await fixtures.mp4();
    const info = await probeVideo(src);
    const out = path.join(outDir(), 'edited.mp4');
    const frames = readFrames(src, { width: 64, height: 40, info });
    const result = await writeVideo(out, frames, { width: info.width, height: info.height, fps: info.fps, audioFrom: src });
    assert.deepEqual(result, { path: out, width: 200, height: 120, frameCount: 20, audio: 'copied', notes: [] });
    const back = await probeVideo(out);
    assert.deepEqual([back.width, back.height, back.frameCount], [200, 120, 20]);
    assert.deepEqual(back.fps, { num: 12, den: 1 });
    assert.equal(back.codec, 'h264');
    assert.equal(back.pixFmt, 'yuv420p');
    assert.equal(back.audioCodec, 'aac');
    const audio = await audioDuration(out);
    assert.ok(audio <= 20 / 12 + 0.03 && audio > 20 / 12 - 0.1, `audio lasts ${audio}s`);
    assert.deepEqual(tempFilesIn(path.dirname(out)), []);
  });

  it('keeps colours (red in, red out) and an exact NTSC rate', async () => {
    const out = path.join(outDir(), 'red.mp4');
    const frames = Array.from({ length: 10 }, () => solid(64, 48, [1, -1, -1]));
    await writeVideo(out, frames, { width: 64, height: 48, fps: { num: 30000, den: 1001 } });
    const back = await probeVideo(out);
    assert.deepEqual(back.fps, { num: 30000, den: 1001 });
    assert.equal(back.frameCount, 10);
    assert.equal(back.hasAudio, false);
    const [first] = await collect(readFrames(out, { width: 64, height: 48, count: 1, info: back }));
    const i = 20 * 64 + 30;
    const plane = 64 * 48;
    const [r, g, b] = [first.data[i], first.data[plane + i], first.data[2 * plane + i]];
    assert.ok(r > 0.96 && g < -0.96 && b < -0.96, `decoded ${r}, ${g}, ${b}`);
  });

  it('pads an odd source size to even for H.264 4:2:0 (edge repeated), and says so', async () => {
    assert.deepEqual(evenSize(99, 57), { width: 98, height: 56 });
    const src = await fixtures.odd();
    const info = await probeVideo(src);
    const out = path.join(outDir(), 'odd.mp4');
    const result = await writeVideo(out, readFrames(src, { width: 64, height: 64, info }), { width: 99, height: 57, fps: info.fps });
    assert.deepEqual([result.width, result.height], [100, 58]);
    assert.match(result.notes.join(' '), /99×57 has an odd side and h264 4:2:0 needs even sides: padded to 100×58/);
    const back = await probeVideo(out);
    assert.deepEqual([back.width, back.height, back.frameCount], [100, 58, 20]);
  });

  it('copies opus audio from a webm and re-encodes PCM from a mov to AAC', async () => {
    const frames = (): Tensor[] => Array.from({ length: 6 }, () => solid(32, 32, [0, 0, 0]));
    const fps = { num: 12, den: 1 };
    const webmOut = path.join(outDir(), 'from-webm.mp4');
    const fromWebm = await writeVideo(webmOut, frames(), { width: 32, height: 32, fps, audioFrom: await fixtures.webm() });
    assert.equal(fromWebm.audio, 'copied');
    assert.equal((await probeVideo(webmOut)).audioCodec, 'opus');
    const movOut = path.join(outDir(), 'from-mov.mp4');
    const fromMov = await writeVideo(movOut, frames(), { width: 32, height: 32, fps, audioFrom: await fixtures.mov() });
    assert.equal(fromMov.audio, 'aac');
    assert.match(fromMov.notes.join(' '), /pcm_s16le audio does not fit \.mp4: re-encoded to AAC/);
    assert.equal((await probeVideo(movOut)).audioCodec, 'aac');
    assert.ok((await audioDuration(movOut)) <= 0.5 + 0.03);
  });

  it('leaves nothing behind when the frames fail midway, and keeps an existing output', async () => {
    const folder = outDir();
    const out = path.join(folder, 'broken.mp4');
    writeFileSync(out, 'previous result');
    async function* failing(): AsyncGenerator<Tensor> {
      for (let i = 0; i < 3; i++) yield solid(32, 32, [0, 0, 0]);
      throw new Error('model exploded');
    }
    await assert.rejects(writeVideo(out, failing(), { width: 32, height: 32, fps: { num: 12, den: 1 }, overwrite: true }), /model exploded/);
    assert.deepEqual(readdirSync(folder), ['broken.mp4']);
  });

  it('cancels on abort and deletes its temp files', async () => {
    const folder = outDir();
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Tensor> {
      for (let i = 0; i < 100; i++) {
        if (i === 3) controller.abort();
        yield solid(32, 32, [0, 0, 0]);
      }
    }
    const out = path.join(folder, 'cancelled.mp4');
    await assert.rejects(
      writeVideo(out, slow(), { width: 32, height: 32, fps: { num: 12, den: 1 }, audioFrom: await fixtures.mp4(), signal: controller.signal }),
      (err: Error) => err.name === 'AbortError' && /cancelled; nothing was written/.test(err.message),
    );
    assert.deepEqual(readdirSync(folder), []);
  });

  it('refuses to overwrite its input, also through a symlink', async () => {
    const src = await fixtures.mp4();
    const frames = [solid(32, 32, [0, 0, 0])];
    const opts = { width: 32, height: 32, fps: { num: 12, den: 1 }, inputs: [src] };
    await assert.rejects(writeVideo(src, frames, opts), /^VideoshopError: refusing to overwrite the input: .* choose another output path$/);
    const link = path.join(outDir(), 'link.mp4');
    symlinkSync(src, link);
    await assert.rejects(writeVideo(link, frames, opts), /refusing to overwrite the input/);
    await assert.rejects(writeVideo(link, frames, { ...opts, inputs: [], audioFrom: src }), /refusing to overwrite the input/);
    assert.equal((await probeVideo(src)).frameCount, 20);
  });

  it('rejects bad options and frames', async () => {
    const out = path.join(outDir(), 'x.mp4');
    const fps = { num: 12, den: 1 };
    await assert.rejects(writeVideo(out, [], { width: 32, height: 32, fps }), /no frames to write/);
    await assert.rejects(writeVideo(out, [solid(8, 8, [0, 0, 0])], { width: 32, height: 32, fps: { num: 0, den: 1 } }), RangeError);
    const mixed = [solid(8, 8, [0, 0, 0]), solid(16, 8, [0, 0, 0])];
    await assert.rejects(writeVideo(out, mixed, { width: 32, height: 32, fps }), /frame 1 is \[3, 8, 16\], expected \[3, 8, 8\]/);
    await assert.rejects(writeVideo(out, mixed, { width: 32, height: 32, fps, frameWidth: 10 }), /not the announced/);
    await assert.rejects(writeVideo(path.join(dir, 'no', 'such', 'x.mp4'), mixed, { width: 32, height: 32, fps }), /output folder .*no\/such does not exist/);
    assert.ok(!existsSync(out));
  });
});

describe('writeFramesPng', () => {
  it('writes numbered PNGs that read back to the same pixels', async () => {
    const folder = path.join(outDir(), 'frames');
    const frames = [solid(16, 8, [1, -1, 0]), solid(16, 8, [-1, 0.5, 1])];
    const files = await writeFramesPng(folder, frames);
    assert.deepEqual(files.map((f) => path.basename(f)), ['frame_00000.png', 'frame_00001.png']);
    const back = await readImage(files[1]);
    assert.deepEqual([back.width, back.height], [16, 8]);
    for (let i = 0; i < back.data.length; i++) assert.ok(Math.abs(back.data[i] - frames[1].data[i]) <= 1 / 255 + 1e-6);
  });
});
