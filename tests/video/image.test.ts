import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { aspectMismatch, fitImage, readImage, type RgbImage } from '../../src/video/image.js';
import { dir, fixtures } from './fixtures.js';

const run = promisify(execFile);
const RED = [255, 0, 0];
const BLUE = [0, 0, 255];

/** width×height RGB(A) bytes: the left half `left`, the right half `right`. */
function halves(width: number, height: number, left: number[], right: number[]): Buffer {
  const channels = left.length;
  const buf = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) buf.set(x < width / 2 ? left : right, (y * width + x) * channels);
  }
  return buf;
}

/** RGB of pixel (x, y) in 0…255. */
function pixel(img: RgbImage, x: number, y: number): number[] {
  const plane = img.width * img.height;
  return [0, 1, 2].map((c) => Math.round((img.data[c * plane + y * img.width + x] + 1) * 127.5));
}

function file(name: string): string {
  return path.join(dir, name);
}

describe('readImage', () => {
  it('drops alpha like the reference (RGB kept as stored) and reports transparency', async () => {
    const rgba = halves(8, 4, [200, 100, 50, 128], [10, 20, 30, 0]);
    await sharp(rgba, { raw: { width: 8, height: 4, channels: 4 } }).png().toFile(file('alpha.png'));
    const img = await readImage(file('alpha.png'));
    assert.deepEqual(img.dims, [3, 4, 8]);
    assert.deepEqual(pixel(img, 0, 0), [200, 100, 50]);
    assert.deepEqual(pixel(img, 7, 3), [10, 20, 30]);
    assert.equal(img.hadTransparency, true);
    assert.ok(Math.abs(img.data[0] - (200 / 255) * 2 + 1) < 1e-6);

    const opaque = halves(8, 4, [1, 2, 3, 255], [4, 5, 6, 255]);
    await sharp(opaque, { raw: { width: 8, height: 4, channels: 4 } }).png().toFile(file('opaque.png'));
    assert.equal((await readImage(file('opaque.png'))).hadTransparency, false);
  });

  it('reads lossless WebP with alpha', async () => {
    const rgba = halves(8, 4, [200, 100, 50, 255], [10, 20, 30, 60]);
    await sharp(rgba, { raw: { width: 8, height: 4, channels: 4 } }).webp({ lossless: true }).toFile(file('alpha.webp'));
    const img = await readImage(file('alpha.webp'));
    assert.deepEqual([img.width, img.height, img.hadTransparency], [8, 4, true]);
    assert.deepEqual(pixel(img, 1, 1), [200, 100, 50]);
  });

  it('applies EXIF orientation (JPEG stored 40×20 with orientation 6 shows 20×40)', async () => {
    const raw = halves(40, 20, RED, BLUE);
    await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(file('rotated.jpg'));
    const img = await readImage(file('rotated.jpg'));
    assert.deepEqual([img.width, img.height], [20, 40]);
    // Orientation 6 = turn 90° clockwise: the stored left (red) half ends up on top.
    const near = (a: number[], b: number[]): boolean => a.every((v, i) => Math.abs(v - b[i]) < 12);
    assert.ok(near(pixel(img, 10, 5), RED), `top ${pixel(img, 10, 5)}`);
    assert.ok(near(pixel(img, 10, 34), BLUE), `bottom ${pixel(img, 10, 34)}`);
  });

  it('keeps 16-bit precision', async () => {
    const words = new Uint16Array(4 * 4 * 3).fill(1000);
    writeFileSync(file('deep.rgb48'), words);
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb48le', '-s', '4x4', '-i', file('deep.rgb48'), '-pix_fmt', 'rgb48be', file('deep.png')]);
    const img = await readImage(file('deep.png'));
    assert.ok(Math.abs(img.data[5] - ((1000 / 65535) * 2 - 1)) < 1e-6, `got ${img.data[5]}`);
  });

  it('reads grayscale, TIFF, AVIF, and a GIF\'s first frame', async () => {
    await sharp(Buffer.from([0, 64, 128, 255]), { raw: { width: 2, height: 2, channels: 1 } }).png().toFile(file('gray.png'));
    const gray = await readImage(file('gray.png'));
    assert.deepEqual(gray.dims, [3, 2, 2]);
    assert.deepEqual(pixel(gray, 1, 0), [64, 64, 64]);

    await sharp(halves(8, 8, RED, BLUE), { raw: { width: 8, height: 8, channels: 3 } }).tiff({ compression: 'lzw' }).toFile(file('x.tiff'));
    assert.deepEqual(pixel(await readImage(file('x.tiff')), 0, 0), RED);

    await sharp(halves(16, 16, RED, BLUE), { raw: { width: 16, height: 16, channels: 3 } }).avif({ lossless: true }).toFile(file('x.avif'));
    const avif = await readImage(file('x.avif'));
    assert.deepEqual([avif.width, avif.height], [16, 16]);
    assert.ok(pixel(avif, 2, 8)[0] > 230 && pixel(avif, 13, 8)[2] > 230);

    const graph =
      'color=c=red:s=16x16:r=10:d=0.2[a];color=c=blue:s=16x16:r=10:d=0.2[b];[a][b]concat=n=2:v=1,split[c][d];[c]palettegen[p];[d][p]paletteuse';
    await run('ffmpeg', ['-v', 'error', '-y', '-filter_complex', graph, file('anim.gif')]);
    const gif = await readImage(file('anim.gif'));
    assert.deepEqual([gif.width, gif.height], [16, 16]);
    assert.deepEqual(pixel(gif, 8, 8), RED);
  });

  it('fails with one clear line on missing, non-image and truncated files', async () => {
    await assert.rejects(readImage(file('nope.png')), /^VideoshopError: image not found: .*nope\.png$/);
    await assert.rejects(readImage(await fixtures.text()), /^VideoshopError: cannot read image .*text\.mp4: .*unsupported image format/);
    const tiff = readFileSync(file('x.tiff'));
    writeFileSync(file('cut.tiff'), tiff.subarray(0, tiff.length / 2));
    await assert.rejects(readImage(file('cut.tiff')), (err: Error) => {
      assert.match(err.message, /^cannot read image .*cut\.tiff: /);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  });
});

describe('fitImage', () => {
  const img = (): RgbImage => {
    const plane = 40 * 20;
    const data = new Float32Array(3 * plane);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 40; x++) {
        const red = x < 20;
        data[y * 40 + x] = red ? 1 : -1;
        data[2 * plane + y * 40 + x] = red ? -1 : 1;
        data[plane + y * 40 + x] = -1;
      }
    }
    return { data, dims: [3, 20, 40], width: 40, height: 20 };
  };

  it('stretches to any size', () => {
    const out = fitImage(img(), 16, 16, 'stretch');
    assert.deepEqual([out.width, out.height, ...out.dims], [16, 16, 3, 16, 16]);
    assert.deepEqual(pixel(out, 0, 0), RED);
    assert.deepEqual(pixel(out, 15, 15), BLUE);
  });

  it('crops the centre after scaling to cover', () => {
    const out = fitImage(img(), 20, 20, 'crop');
    assert.deepEqual(out.dims, [3, 20, 20]);
    assert.deepEqual(pixel(out, 0, 10), RED);
    assert.deepEqual(pixel(out, 9, 10), RED);
    assert.deepEqual(pixel(out, 10, 10), BLUE);
    assert.deepEqual(pixel(out, 19, 10), BLUE);
  });

  it('pads with black after scaling to fit', () => {
    const out = fitImage(img(), 40, 40, 'pad');
    assert.deepEqual(out.dims, [3, 40, 40]);
    assert.deepEqual(pixel(out, 5, 9), [0, 0, 0]);
    assert.deepEqual(pixel(out, 5, 10), RED);
    assert.deepEqual(pixel(out, 35, 29), BLUE);
    assert.deepEqual(pixel(out, 35, 30), [0, 0, 0]);
  });

  it('measures aspect mismatch relatively and symmetrically', () => {
    assert.equal(aspectMismatch({ width: 1920, height: 1080 }, { width: 1024, height: 576 }), 0);
    const m = aspectMismatch({ width: 640, height: 480 }, { width: 896, height: 640 });
    assert.ok(Math.abs(m - 0.05) < 1e-12, `${m}`);
    assert.equal(m, aspectMismatch({ width: 896, height: 640 }, { width: 640, height: 480 }));
  });
});
