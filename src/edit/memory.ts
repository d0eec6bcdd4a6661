/**
 * A lower bound on the memory an edit needs at a processing size, to refuse sizes whose memory cannot exist before a
 * model is loaded (a 100000×50000 request otherwise dies in "Invalid typed array length" after the model load).
 * Counted: a block of frames as float32 several times over (input, output, pending cross-fade, RGB conversion) and
 * the VAE decoder's full-resolution activations (128 channels in SVD, a few alive at once). Weights and the UNet's
 * latent-size activations come on top, so the real need is higher: this only catches the impossible. The edit's real
 * plan (every network, the decoder's frames per chunk, the memory actually available) is src/edit/memory-plan.ts.
 */
import { totalmem } from 'node:os';
import { msg, option, VideoshopError } from '../util/errors.js';

const FLOAT_BYTES = 4;
const BLOCK_COPIES = 6;
const DECODER_CHANNELS = 128;
const DECODER_LIVE = 4;

export function estimateEditBytes(width: number, height: number, blockFrames: number): number {
  const pixels = width * height;
  return blockFrames * pixels * 3 * FLOAT_BYTES * BLOCK_COPIES + pixels * DECODER_CHANNELS * FLOAT_BYTES * DECODER_LIVE;
}

export function gigabytes(bytes: number): string {
  const gb = bytes / 1e9;
  return gb >= 100 ? gb.toExponential(1).replace('e+', 'e') : gb.toFixed(1);
}

/** Throws VideoshopError('too_large') when even the lower bound exceeds the machine's memory. */
export function checkEditMemory(size: { width: number; height: number }, blockFrames: number, available = totalmem()): void {
  const need = estimateEditBytes(size.width, size.height, blockFrames);
  if (need > available) {
    throw new VideoshopError('too_large',
      msg`processing at ${size.width}×${size.height} in blocks of ${blockFrames} frames needs about ${gigabytes(need)} GB of memory, \
more than this machine's ${gigabytes(available)} GB: choose a smaller ${option('size')} or fewer ${option('block-frames')}`,
      { field: 'size', params: { width: size.width, height: size.height, blockFrames, needBytes: need, availableBytes: available } });
  }
}
