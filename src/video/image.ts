/** Reading still images (the edited first frame) with sharp, and fitting them to the processing size. */
import { statSync } from 'node:fs';
import sharp from 'sharp';
import type { Tensor } from '../tensor.js';
import { isVideoshopError, VideoshopError } from '../util/errors.js';
import { rgb16ToChw, rgb8ToChw } from './pixels.js';
import { resizeImage } from '../image/resize.js';

export { aspectMismatch } from './size.js';

/** An RGB image as a [3,H,W] float tensor in [-1, 1]. */
export interface RgbImage extends Tensor {
  width: number;
  height: number;
  /** The file had an alpha channel with some non-opaque pixel (alpha is dropped, as the reference does). */
  hadTransparency?: boolean;
}

export type FitMode = 'stretch' | 'crop' | 'pad';

/**
 * Largest image decoded, in pixels: 8K UHD (7680×4320 = 33 MP) fits. As [3,H,W] float32 that is 400 MB; a PNG of
 * 23000×11500 (796 KB on disk) would otherwise take 3.9 GB. Checked on the header before anything is decoded.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

/**
 * Any format sharp reads (PNG, JPEG, WebP, TIFF, GIF's first frame, AVIF…), with EXIF orientation applied,
 * colour converted to sRGB, 16-bit kept at 16 bits, and alpha dropped (the reference keeps `[..., :3]`).
 */
export async function readImage(file: string, { maxPixels = MAX_IMAGE_PIXELS }: { maxPixels?: number } = {}): Promise<RgbImage> {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) throw new VideoshopError('not_found', `image not found: ${file}`);
  // A FIFO would block the read until a writer comes; a device never ends.
  if (!st.isFile()) throw new VideoshopError('not_a_file', `not an image file: ${file} is a ${st.isDirectory() ? 'folder' : 'FIFO, socket or device'}; give a regular file`);
  try {
    const meta = await sharp(file, { limitInputPixels: false }).metadata();
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > maxPixels) {
      throw new VideoshopError('image_too_large', `image ${file} is ${meta.width}×${meta.height} (${(pixels / 1e6).toFixed(0)} MP): more than the ${(maxPixels / 1e6).toFixed(0)} MP Videoshop decodes; scale it down to the video's size`);
    }
    const sixteen = meta.depth === 'ushort' || meta.depth === 'float';
    const { data, info } = await sharp(file, { autoOrient: true, failOn: 'error', limitInputPixels: maxPixels })
      .toColourspace(sixteen ? 'rgb16' : 'srgb')
      .raw(sixteen ? { depth: 'ushort' } : {})
      .toBuffer({ resolveWithObject: true });
    const { width, height, channels } = info;
    if (channels < 3) throw new VideoshopError('bad_input', `image ${file} has ${channels} channel(s) after conversion to RGB`);
    const image = sixteen
      ? rgb16ToChw(new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2), width, height, channels)
      : rgb8ToChw(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels);
    let hadTransparency = false;
    if (channels === 4) {
      const opaque = sixteen ? 65535 : 255;
      const samples = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : data;
      for (let i = 3; i < samples.length; i += 4) {
        if (samples[i] !== opaque) {
          hadTransparency = true;
          break;
        }
      }
    }
    return { ...image, width, height, hadTransparency };
  } catch (err) {
    if (isVideoshopError(err)) throw err;
    const reason = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new VideoshopError('bad_input', `cannot read image ${file}: ${reason}`);
  }
}

/**
 * Fits an image to width×height. `stretch` ignores the aspect ratio (what the reference does); `crop` scales to
 * cover and cuts the centre; `pad` scales to fit inside and fills the rest with black. All resizing is the
 * reference's antialiased bilinear.
 */
export function fitImage(image: Tensor, width: number, height: number, mode: FitMode = 'stretch'): RgbImage {
  const [channels, inH, inW] = image.dims;
  if (mode === 'stretch') return withSize(resizeImage(image, width, height));
  const scale = mode === 'crop' ? Math.max(width / inW, height / inH) : Math.min(width / inW, height / inH);
  // Rounding keeps the scaled image covering (crop) or inside (pad) the target.
  const sw = mode === 'crop' ? Math.max(width, Math.round(inW * scale)) : Math.min(width, Math.max(1, Math.round(inW * scale)));
  const sh = mode === 'crop' ? Math.max(height, Math.round(inH * scale)) : Math.min(height, Math.max(1, Math.round(inH * scale)));
  const scaled = resizeImage(image, sw, sh);
  const out = new Float32Array(channels * width * height);
  if (mode === 'pad') out.fill(-1);
  // Offsets of the scaled image inside the output (pad, ≥ 0) or of the output inside the scaled image (crop, ≥ 0).
  const ox = Math.floor(Math.abs(width - sw) / 2);
  const oy = Math.floor(Math.abs(height - sh) / 2);
  const rows = Math.min(height, sh);
  const cols = Math.min(width, sw);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < rows; y++) {
      const src = mode === 'crop' ? (c * sh + y + oy) * sw + ox : (c * sh + y) * sw;
      const dst = mode === 'crop' ? (c * height + y) * width : (c * height + y + oy) * width + ox;
      out.set(scaled.data.subarray(src, src + cols), dst);
    }
  }
  return withSize({ data: out, dims: [channels, height, width] });
}

function withSize(t: Tensor): RgbImage {
  return { data: t.data, dims: t.dims, width: t.dims[2], height: t.dims[1] };
}
