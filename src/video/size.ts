/** The size the model processes a video at. */

export interface ProcessingSizeOptions {
  /** Target pixel count: SVD's native 1024×576. */
  area?: number;
  /** Every side is a multiple of this (the VAE downsamples 8× and the UNet 8× more). */
  multiple?: number;
}

/**
 * Keeps the source's aspect ratio at about `area` pixels: the ideal sides are √(area·r) × √(area/r) with r = w/h,
 * each rounded to the nearest multiple of `multiple` (halves round up), and at least one multiple.
 * 1920×1080 → 1024×576, 1080×1920 → 576×1024, 640×480 → 896×640, 512×512 → 768×768.
 */
export function processingSize(
  srcWidth: number,
  srcHeight: number,
  { area = 1024 * 576, multiple = 64 }: ProcessingSizeOptions = {},
): { width: number; height: number } {
  if (!(srcWidth > 0 && srcHeight > 0)) throw new RangeError(`source size must be positive, got ${srcWidth}×${srcHeight}`);
  if (!(area > 0 && Number.isInteger(multiple) && multiple > 0)) {
    throw new RangeError(`area must be positive and multiple a positive integer, got ${area} and ${multiple}`);
  }
  const ratio = srcWidth / srcHeight;
  const round = (x: number): number => Math.max(multiple, Math.floor(x / multiple + 0.5) * multiple);
  return { width: round(Math.sqrt(area * ratio)), height: round(Math.sqrt(area / ratio)) };
}

/** How much two aspect ratios differ, relatively: 0 when equal, 0.05 when one is 5% wider. */
export function aspectMismatch(a: { width: number; height: number }, b: { width: number; height: number }): number {
  const ra = a.width / a.height;
  const rb = b.width / b.height;
  return Math.max(ra, rb) / Math.min(ra, rb) - 1;
}
