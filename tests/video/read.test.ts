import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Tensor } from '../../src/tensor.js';
import { probeVideo } from '../../src/video/probe.js';
import { readFrames, readFramesRGB8 } from '../../src/video/read.js';
import { resizeImage } from '../../src/image/resize.js';
import { fixtures } from './fixtures.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function range(t: Tensor): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of t.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

describe('readFrames', () => {
  const containers = [
    ['mp4', fixtures.mp4],
    ['mov', fixtures.mov],
    ['webm', fixtures.webm],
    ['avi', fixtures.avi],
    ['gif', fixtures.gif],
  ] as const;
  for (const [name, make] of containers) {
    it(`decodes every frame of a ${name} once, resized, in [-1, 1]`, async () => {
      const frames = await collect(readFrames(await make(), { width: 64, height: 40 }));
      assert.equal(frames.length, 20);
      for (const f of frames) assert.deepEqual(f.dims, [3, 40, 64]);
      const [lo, hi] = range(frames[0]);
      assert.ok(lo >= -1 && hi <= 1 && hi - lo > 1.5, `range ${lo}…${hi}`);
      // testsrc2 moves every frame: a dropped or duplicated frame would show as two equal neighbours.
      for (let i = 1; i < frames.length; i++) assert.ok(meanAbsDiff(frames[i - 1].data, frames[i].data) > 1e-3, `frame ${i} repeats`);
    });
  }

  it('decodes a known colour right (lavfi red → R≈1, G≈B≈−1)', async () => {
    const frames = await collect(readFrames(await fixtures.red(), { width: 32, height: 24 }));
    assert.equal(frames.length, 4);
    const plane = 32 * 24;
    for (const i of [0, 13 * 32 + 17, plane - 1]) {
      const [r, g, b] = [frames[0].data[i], frames[0].data[plane + i], frames[0].data[2 * plane + i]];
      assert.ok(r > 0.96 && g < -0.98 && b < -0.98, `pixel ${i}: ${r}, ${g}, ${b}`);
    }
  });

  for (const [name, make] of [...containers, ['vfr mp4', fixtures.vfr]] as const) {
    it(`seeks to an exact frame of a ${name} and stops after count`, async () => {
      const file = await make();
      const all = await collect(readFrames(file, { width: 48, height: 32 }));
      for (const start of [1, 5, 13]) {
        const part = await collect(readFrames(file, { width: 48, height: 32, start, count: 7 }));
        assert.equal(part.length, 7);
        for (let i = 0; i < 7; i++) assert.deepEqual(part[i].data, all[start + i].data, `frame ${start + i}`);
      }
    });
  }

  it('refuses a window past the end', async () => {
    const file = await fixtures.mp4();
    await assert.rejects(collect(readFrames(file, { width: 48, height: 32, start: 15, count: 6 })), /asked for frames 15–20 but .* has 20 frames/);
    await assert.rejects(collect(readFrames(file, { width: 48, height: 32, start: 20 })), /start frame 20 is past the end/);
    await assert.rejects(collect(readFrames(file, { width: 0, height: 32 })), RangeError);
  });

  it('decodes rotated video at the size probe reports, turned', async () => {
    const info = await probeVideo(await fixtures.rotated());
    const [upright] = await collect(readFramesRGB8(await fixtures.mp4(), { count: 1 }));
    const [turned] = await collect(readFramesRGB8(info.path, { info, count: 1 }));
    assert.deepEqual([turned.width, turned.height], [120, 200]);
    assert.equal(turned.data.length, 120 * 200 * 3);
    // The turned frame is the upright one rotated a quarter turn one way or the other.
    const at = (f: typeof upright, x: number, y: number): number => f.data[(y * f.width + x) * 3];
    let cw = 0;
    let ccw = 0;
    for (let y = 0; y < 200; y += 7) {
      for (let x = 0; x < 120; x += 7) {
        cw += Math.abs(at(turned, x, y) - at(upright, y, 119 - x));
        ccw += Math.abs(at(turned, x, y) - at(upright, 199 - y, x));
      }
    }
    assert.ok(Math.min(cw, ccw) * 10 < Math.max(cw, ccw), `cw ${cw}, ccw ${ccw}`);
  });

  it('decodes odd-sized video', async () => {
    const frames = await collect(readFramesRGB8(await fixtures.odd()));
    assert.equal(frames.length, 20);
    assert.equal(frames[0].data.length, 99 * 57 * 3);
  });

  it('stops ffmpeg when the consumer stops early', async () => {
    let n = 0;
    for await (const _f of readFrames(await fixtures.mp4(), { width: 64, height: 40 })) if (++n === 2) break;
    assert.equal(n, 2);
    const ffmpegs = spawnSync('pgrep', ['-P', String(process.pid), 'ffmpeg']).stdout.toString().trim();
    assert.equal(ffmpegs, '');
  });

  it('resizes like the reference: RGB then swscale bilinear is within half a level of torch antialiased bilinear', async () => {
    const file = await fixtures.mp4();
    const info = await probeVideo(file);
    const [native] = await collect(readFrames(file, { width: info.width, height: info.height, count: 1 }));
    const reference = resizeImage(native, 72, 40);
    const [swscale] = await collect(readFrames(file, { width: 72, height: 40, count: 1 }));
    const [viaJs] = await collect(readFrames(file, { width: 72, height: 40, count: 1, resize: 'antialias' }));
    assert.deepEqual(viaJs.data, reference.data);
    const levels = meanAbsDiff(swscale.data, reference.data) * 127.5;
    assert.ok(levels < 0.6, `swscale vs reference: ${levels.toFixed(3)} 8-bit levels`);
  });
});
