import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Tensor } from '../../src/tensor.js';
import { chwToRgb8 } from '../../src/video/pixels.js';
import { probeVideo } from '../../src/video/probe.js';
import { readFrames } from '../../src/video/read.js';
import { toRgbFilter, yuvMatrix } from '../../src/video/colour.js';
import { fixtures } from './fixtures.js';

const run = promisify(execFile);
const W = 1280;
const H = 720;

async function first(file: string, frames = 1): Promise<Tensor[]> {
  const info = await probeVideo(file);
  const out: Tensor[] = [];
  for await (const f of readFrames(file, { width: info.width, height: info.height, count: frames, info })) out.push(f);
  return out;
}

/** ffmpeg's own `-pix_fmt rgb24` decode of the first frame. */
async function ffmpegRgb24(file: string): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

/** Mean and max |a − b| in 8-bit levels, and the mean signed difference, between a [3,H,W] frame and rgb24 bytes. */
function errorVs(frame: Tensor, rgb: Uint8Array): { mean: number; max: number; bias: number } {
  const plane = W * H;
  let sum = 0;
  let max = 0;
  let bias = 0;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const d = (frame.data[c * plane + i] + 1) * 127.5 - rgb[i * 3 + c];
      sum += Math.abs(d);
      bias += d;
      max = Math.max(max, Math.abs(d));
    }
  }
  return { mean: sum / (3 * plane), max, bias: bias / (3 * plane) };
}

describe('exact decoding', () => {
  it('RGB sources decode bit-exactly (the lossless original, and ffmpeg\'s rgb24)', async () => {
    const file = await fixtures.rgbLossless();
    const original = readFileSync(await fixtures.original()).subarray(0, W * H * 3);
    const [frame] = await first(file);
    assert.deepEqual(Buffer.from(chwToRgb8(frame)), original);
    assert.deepEqual(Buffer.from(chwToRgb8(frame)), await ffmpegRgb24(file));
  });

  for (const [matrix, range, pixFmt, bound] of [
    ['bt709', 'tv', 'yuv420p', 0.9], ['bt601', 'tv', 'yuv420p', 0.7], ['bt709', 'pc', 'yuv420p', 0.8],
    ['bt709', 'tv', 'yuv422p', 0.65], ['bt709', 'tv', 'yuv444p', 0.5],
  ] as const) {
    it(`tagged ${matrix} ${range} ${pixFmt}: ffmpeg's own rgb24, within ${bound} levels of the original`, async () => {
      const file = await fixtures.yuv(matrix, range, pixFmt);
      const [frame] = await first(file);
      assert.deepEqual(Buffer.from(chwToRgb8(frame)), await ffmpegRgb24(file));
      const original = readFileSync(await fixtures.original()).subarray(0, W * H * 3);
      const e = errorVs(frame, original);
      assert.ok(e.mean < bound, `mean ${e.mean.toFixed(3)} levels`);
    });
  }

  it('untagged HD is BT.709 (as players assume), untagged SD BT.601', async () => {
    const file = await fixtures.yuv('bt709', 'tv', 'yuv420p', false);
    const info = await probeVideo(file);
    assert.equal(info.colour.space, undefined);
    assert.equal(yuvMatrix(info), 'bt709');
    assert.equal(yuvMatrix({ ...info, codedWidth: 720, codedHeight: 480 }), 'bt601');
    const original = readFileSync(await fixtures.original()).subarray(0, W * H * 3);
    const ours = errorVs((await first(file))[0], original);
    assert.ok(ours.mean < 0.9, `ours ${ours.mean}`);
    // ffmpeg's plain rgb24 assumes BT.601 for untagged video: visibly off.
    const plain = await ffmpegRgb24(file);
    let sum = 0;
    for (let i = 0; i < plain.length; i++) sum += Math.abs(plain[i] - original[i]);
    assert.ok(sum / plain.length > 2 * ours.mean, `plain ${sum / plain.length} vs ours ${ours.mean}`);
  });

  it('10-bit sources keep their precision, without the gain error of swscale\'s 16-bit output', async () => {
    const file = await fixtures.yuv('bt709', 'tv', 'yuv444p10le');
    const info = await probeVideo(file);
    assert.equal(info.bitDepth, 10);
    assert.match(toRgbFilter(info), /rgb48le$/);
    const [frame] = await first(file);
    const original = readFileSync(await fixtures.original()).subarray(0, W * H * 3);
    const e = errorVs(frame, original);
    assert.ok(e.mean < 0.3 && Math.abs(e.bias) < 0.05, `mean ${e.mean}, bias ${e.bias}`);
    let fractional = 0;
    for (let i = 0; i < 10000; i++) if (Math.abs(((frame.data[i] + 1) * 127.5) % 1) > 0.01) fractional++;
    assert.ok(fractional > 1000, `${fractional} of 10000 values between 8-bit levels`);
  });
});
