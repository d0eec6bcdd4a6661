/** Conversions between interleaved RGB bytes and the pipeline's planar float frames ([3,H,W], RGB, in [-1, 1]). */
import type { Tensor } from '../tensor.js';

/** Interleaved 8-bit RGB → [3,H,W] float in [-1, 1] (v/255·2 − 1, like the reference's `x/255` then Normalize(0.5, 0.5)). */
export function rgb8ToChw(bytes: Uint8Array, width: number, height: number, channels = 3): Tensor {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += channels) {
    out[i] = bytes[p] * (2 / 255) - 1;
    out[plane + i] = bytes[p + 1] * (2 / 255) - 1;
    out[2 * plane + i] = bytes[p + 2] * (2 / 255) - 1;
  }
  return { data: out, dims: [3, height, width] };
}

/**
 * Interleaved 16-bit little-endian RGB (rgb48le) → [3,H,W] float in [-1, 1]. `full` is the value of white
 * (65535, except for ffmpeg's YUV → rgb48 output, see colour.ts); values above it clamp to 1.
 */
export function rgb16ToChw(words: Uint16Array, width: number, height: number, channels = 3, full = 65535): Tensor {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const k = 2 / full;
  for (let i = 0, p = 0; i < plane; i++, p += channels) {
    out[i] = Math.min(1, words[p] * k - 1);
    out[plane + i] = Math.min(1, words[p + 1] * k - 1);
    out[2 * plane + i] = Math.min(1, words[p + 2] * k - 1);
  }
  return { data: out, dims: [3, height, width] };
}

/** [3,H,W] float in [-1, 1] → interleaved 8-bit RGB, clamped and rounded (the reference clamps (x+1)/2 to [0, 1]). */
export function chwToRgb8(frame: Tensor, out?: Uint8Array): Uint8Array {
  const [c, height, width] = frame.dims;
  if (frame.dims.length !== 3 || c !== 3) throw new Error(`expected a [3,H,W] frame, got [${frame.dims.join(', ')}]`);
  const plane = width * height;
  const bytes = out ?? new Uint8Array(3 * plane);
  const d = frame.data;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    bytes[p] = toByte(d[i]);
    bytes[p + 1] = toByte(d[plane + i]);
    bytes[p + 2] = toByte(d[2 * plane + i]);
  }
  return bytes;
}

function toByte(v: number): number {
  const x = (v + 1) * 127.5;
  // NaN compares false both ways and ends up 0.
  return x >= 255 ? 255 : x > 0 ? Math.round(x) : 0;
}

/** [3,H,W] float in [-1, 1] → interleaved 16-bit little-endian RGB (rgb48le), clamped and rounded. */
export function chwToRgb48(frame: Tensor): Buffer {
  const [c, height, width] = frame.dims;
  if (frame.dims.length !== 3 || c !== 3) throw new Error(`expected a [3,H,W] frame, got [${frame.dims.join(', ')}]`);
  const plane = width * height;
  const out = Buffer.alloc(plane * 6);
  const d = frame.data;
  for (let i = 0; i < plane; i++) {
    for (let k = 0; k < 3; k++) {
      const x = (d[k * plane + i] + 1) * 32767.5;
      out.writeUInt16LE(x >= 65535 ? 65535 : x > 0 ? Math.round(x) : 0, (i * 3 + k) * 2);
    }
  }
  return out;
}
