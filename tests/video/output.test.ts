import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Tensor } from '../../src/tensor.js';
import { planAudio, planEncode } from '../../src/video/encode-args.js';
import { ffprobePath, runTool } from '../../src/video/ffmpeg.js';
import { chwToRgb8 } from '../../src/video/pixels.js';
import { probeVideo, type VideoInfo } from '../../src/video/probe.js';
import { readFrames } from '../../src/video/read.js';
import { renderParts } from '../../src/util/errors.js';
import { frameTimes } from '../../src/video/timing.js';
import { writeVideo, type WriteOptions } from '../../src/video/write.js';
import { dir, fixtures } from './fixtures.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const outDir = (): string => mkdtempSync(path.join(dir, 'output-'));

/** The source's frames at its own size, re-encoded to `name` carrying its look over. */
async function reencode(src: string, name: string, extra: Partial<WriteOptions> = {}):
  Promise<{ info: VideoInfo; back: VideoInfo; frames: Tensor[]; out: string; notes: string[]; audio: string }> {
  const info = await probeVideo(src);
  const frames = await collect(readFrames(src, { width: info.width, height: info.height, info }));
  const out = path.join(outDir(), name);
  const result = await writeVideo(out, frames, {
    width: info.width, height: info.height, fps: info.fps, look: info, timestamps: frameTimes(info),
    audioFrom: info.hasAudio ? src : undefined, ...extra,
  });
  return { info, back: await probeVideo(out), frames, out, notes: result.notes.map((n) => renderParts(n)), audio: result.audio };
}

function meanLevels(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i] - b.data[i]);
  return (s / a.data.length) * 127.5;
}

async function audioDuration(file: string): Promise<number> {
  const args = ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=duration', '-of', 'csv=p=0', file];
  return Number((await runTool(ffprobePath(), args)).stdout.trim());
}

describe('output formats', () => {
  it('plans containers and codecs by extension, and refuses what does not fit', () => {
    assert.deepEqual([planEncode('a.mp4', 8, 8).codec, planEncode('a.MOV', 8, 8).container, planEncode('a.webm', 8, 8).codec], ['h264', 'mov', 'vp9']);
    assert.throws(() => planEncode('a.avi', 8, 8), /unknown extension \.avi; use \.mp4, \.mov, \.mkv or \.webm/);
    assert.throws(() => planEncode('a.webm', 8, 8, { codec: 'h264' }), /\.webm cannot hold h264: use codec vp9/);
    assert.throws(() => planEncode('a.mp4', 8, 8, { codec: 'ffv1' }), /\.mp4 cannot hold ffv1/);
    assert.throws(() => planEncode('a.mp4', 8, 8, { crf: 60 }), /crf must be an integer within 0…51/);
    assert.throws(() => planEncode('a.mp4', 8, 8, { preset: 'quick' }), /preset must be one of/);
    assert.deepEqual([planEncode('a.mkv', 99, 57, { codec: 'ffv1' }).width, planEncode('a.webm', 99, 57).height], [99, 57]);
    assert.deepEqual(planAudio('webm', 'aac'), { audio: 'opus', note: "the source's aac audio does not fit .webm: re-encoded to Opus" });
    assert.deepEqual(planAudio('mkv', 'pcm_s16le'), { audio: 'copied' });
    assert.deepEqual(planAudio('mp4', 'aac', 'none'), { audio: 'none' });
    assert.throws(() => planAudio('webm', 'opus', 'aac'), /\.webm holds Opus or Vorbis audio/);
  });

  it('FFV1 .mkv is lossless: the frames read back bit-exactly, odd size kept', async () => {
    for (const src of [await fixtures.rgbLossless(), await fixtures.odd()]) {
      const { frames, back } = await reencode(src, 'lossless.mkv', { codec: 'ffv1' });
      assert.deepEqual([back.codec, back.width, back.height], ['ffv1', frames[0].dims[2], frames[0].dims[1]]);
      const again = await collect(readFrames(back.path, { width: back.width, height: back.height, info: back }));
      assert.equal(again.length, frames.length);
      for (let i = 0; i < frames.length; i++) assert.deepEqual(chwToRgb8(again[i]), chwToRgb8(frames[i]));
    }
  });

  it('keeps a 10-bit source deep: FFV1 at 16 bits (also through the timestamped pipe), HEVC at 10 bits; H.264 stays 8', async () => {
    const src = await fixtures.yuv('bt709', 'tv', 'yuv444p10le');
    const info = await probeVideo(src);
    const frames = await collect(readFrames(src, { width: info.width, height: info.height, info, count: 2 }));
    for (const timestamps of [undefined, { times: [0, 0.1], end: 0.25 }]) {
      const out = path.join(outDir(), 'deep.mkv');
      await writeVideo(out, frames, { width: info.width, height: info.height, fps: info.fps, look: info, codec: 'ffv1', timestamps });
      const back = await probeVideo(out);
      assert.deepEqual([back.pixFmt, back.bitDepth], ['gbrp16le', 16]);
      const again = await collect(readFrames(out, { width: back.width, height: back.height, info: back }));
      let max = 0;
      for (let i = 0; i < frames[1].data.length; i++) max = Math.max(max, Math.abs(again[1].data[i] - frames[1].data[i]));
      assert.ok(max <= 2 / 65535 + 1e-6, `max difference ${max * 32767.5} 16-bit steps`);
    }
    const hevc = path.join(outDir(), 'deep.mp4');
    await writeVideo(hevc, frames, { width: info.width, height: info.height, fps: info.fps, look: info, codec: 'hevc', preset: 'ultrafast' });
    assert.equal((await probeVideo(hevc)).pixFmt, 'yuv420p10le');
    assert.equal(planEncode('x.mp4', 8, 8, {}, { bitDepth: 10 }).depth, 8);
  });

  it('carries colour tags and range over (BT.601 full range stays BT.601 full range) with the colours intact', async () => {
    const { back, frames } = await reencode(await fixtures.smallPc(), 'pc.mp4');
    assert.deepEqual(back.colour, { space: 'smpte170m', range: 'pc', primaries: 'smpte170m', transfer: 'smpte170m', chromaLocation: back.colour.chromaLocation });
    const again = await collect(readFrames(back.path, { width: back.width, height: back.height, info: back }));
    // Lossy 4:2:0 at crf 18 on a sharp test pattern: ~2.7 levels; a wrong matrix or range would bias every colour.
    assert.ok(meanLevels(again[0], frames[0]) < 4, `${meanLevels(again[0], frames[0])} levels`);
    let bias = 0;
    for (let i = 0; i < frames[0].data.length; i++) bias += again[0].data[i] - frames[0].data[i];
    assert.ok(Math.abs((bias / frames[0].data.length) * 127.5) < 0.5, `bias ${(bias / frames[0].data.length) * 127.5} levels`);
  });

  it('carries the pixel aspect ratio over', async () => {
    const { back, info } = await reencode(await fixtures.sar(), 'sar.mkv');
    assert.deepEqual(info.sar, { num: 4, den: 3 });
    assert.deepEqual(back.sar, { num: 4, den: 3 });
  });

  it('carries rotation over in MP4 (stored turned, flagged) and writes Matroska upright', async () => {
    const src = await fixtures.rotated();
    const mp4 = await reencode(src, 'rotated.mp4');
    assert.deepEqual([mp4.back.rotation, mp4.back.codedWidth, mp4.back.codedHeight], [mp4.info.rotation, 200, 120]);
    assert.deepEqual([mp4.back.width, mp4.back.height], [120, 200]);
    const shown = await collect(readFrames(mp4.out, { width: 120, height: 200, info: mp4.back, count: 1 }));
    assert.ok(meanLevels(shown[0], mp4.frames[0]) < 4, `${meanLevels(shown[0], mp4.frames[0])} levels`);
    const mkv = await reencode(src, 'rotated.mkv', { audioFrom: undefined });
    assert.deepEqual([mkv.back.rotation, mkv.back.width, mkv.back.height], [0, 120, 200]);
  });

  it('keeps 30000/1001 exactly in MP4, MOV, MKV and WebM', async () => {
    for (const name of ['ntsc.mp4', 'ntsc.mov', 'ntsc.mkv', 'ntsc.webm']) {
      const { back } = await reencode(await fixtures.ntsc(), name);
      assert.deepEqual(back.fps, { num: 30000, den: 1001 }, name);
      assert.equal(back.frameCount, 10);
      assert.equal(back.vfr, false);
    }
  });

  it('keeps every frame time of a variable-rate video within 1 ms, audio as long as the video', async () => {
    const src = await fixtures.vfr();
    const info = await probeVideo(src);
    assert.equal(info.vfr, true);
    const want = frameTimes(info)!;
    assert.equal(want.times.length, 20);
    assert.ok(Math.abs(want.times[10] - 1) < 1e-3 && Math.abs(want.end - 1.5) < 1e-3, `${want.times[10]} ${want.end}`);
    for (const name of ['vfr.mp4', 'vfr.mkv', 'vfr.webm']) {
      const { back } = await reencode(src, name);
      const got = frameTimes(back)!;
      assert.ok(got, `${name} is variable-rate`);
      assert.equal(got.times.length, 20);
      for (let i = 0; i < 20; i++) assert.ok(Math.abs(got.times[i] - want.times[i]) <= 1e-3, `${name} frame ${i}: ${got.times[i]} vs ${want.times[i]}`);
      const audio = await audioDuration(back.path);
      assert.ok(Number.isNaN(audio) || Math.abs(audio - 1.5) < 0.05, `${name}: audio ${audio}s`);
    }
  });

  it('writes HEVC on request, VP9 + Opus in WebM, and no audio with --audio none', async () => {
    const hevc = await reencode(await fixtures.mp4(), 'clip-hevc.mp4', { codec: 'hevc', preset: 'ultrafast' });
    assert.deepEqual([hevc.back.codec, hevc.back.audioCodec, hevc.back.frameCount], ['hevc', 'aac', 20]);
    const webm = await reencode(await fixtures.mp4(), 'clip.webm', { preset: '8' });
    assert.deepEqual([webm.back.codec, webm.back.audioCodec, webm.audio], ['vp9', 'opus', 'opus']);
    assert.match(webm.notes.join(' '), /aac audio does not fit \.webm: re-encoded to Opus/);
    const silent = await reencode(await fixtures.mp4(), 'silent.mov', { audio: 'none' });
    assert.deepEqual([silent.back.hasAudio, silent.audio, silent.back.formatName.includes('mov')], [false, 'none', true]);
  });
});
