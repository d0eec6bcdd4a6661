/**
 * Real footage nobody here made: OpenCV's vtest.avi (Debian's opencv-doc; 768×576 at 10 fps, people walking), whose
 * white van in the corner a test edit recolours. Shared by tests/edit/keep-unedited.test.ts and
 * experiments/real-footage.ts (the README's picture).
 */
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';

export const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
/** The van in vtest.avi's first frame (x0, y0, x1, y1), and the margin beyond which nothing may change. */
export const VAN = { x0: 648, y0: 40, x1: 728, y1: 102 };

/** The first frame with the van's bright pixels turned red (brightness kept). */
export async function paintVan(frame: string, out: string): Promise<void> {
  const { data, info } = await sharp(frame).raw().toBuffer({ resolveWithObject: true });
  for (let y = VAN.y0; y < VAN.y1; y++) {
    for (let x = VAN.x0; x < VAN.x1; x++) {
      const i = (y * info.width + x) * info.channels;
      const luma = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      if (luma > 150) data.set([Math.min(255, luma * 1.1), luma * 0.25, luma * 0.2], i);
    }
  }
  await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).png().toFile(out);
}

export function decode(file: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 30 });
}

/**
 * Values (of RGB bytes) that differ from the source farther than `margin` px from the van, and nearer; and how far
 * from the van's box the farthest differing pixel is (px, 0 inside it).
 */
export function differences(src: Buffer, dst: Buffer, width: number, height: number, margin: number): { far: number; near: number; farthest: number } {
  let far = 0, near = 0, farthest = 0;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === dst[i]) continue;
    const p = Math.floor(i / 3) % (width * height), x = p % width, y = Math.floor(p / width);
    const distance = Math.max(VAN.x0 - x, x - (VAN.x1 - 1), VAN.y0 - y, y - (VAN.y1 - 1), 0);
    farthest = Math.max(farthest, distance);
    if (distance > margin) far++;
    else near++;
  }
  return { far, near, farthest };
}
