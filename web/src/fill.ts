/** Flood fill for the editor: the connected region of similar colour around a pixel, filled or recoloured. */

export type Rgb = [number, number, number];

export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/**
 * A transparent image of `source`'s size holding only the region 4-connected to (x, y) whose pixels differ from
 * the seed by at most `tolerance` per channel: filled with `color`, or with `recolour`, `color` scaled so that each
 * pixel keeps its own brightness (luma), like a "colour" blend: shading and texture survive, the hue changes.
 */
export function floodFill(source: ImageData, x: number, y: number, o: { color: Rgb; tolerance: number; recolour: boolean }): ImageData {
  const { width, height, data } = source;
  const out = new ImageData(width, height);
  const seen = new Uint8Array(width * height);
  const s = (y * width + x) * 4;
  const seed = [data[s], data[s + 1], data[s + 2]];
  const similar = (i: number) => Math.abs(data[i] - seed[0]) <= o.tolerance && Math.abs(data[i + 1] - seed[1]) <= o.tolerance
    && Math.abs(data[i + 2] - seed[2]) <= o.tolerance;
  const colorLuma = Math.max(1, luma(o.color[0], o.color[1], o.color[2]));
  const stack = [y * width + x];
  while (stack.length) {
    const p = stack.pop()!;
    if (seen[p]) continue;
    seen[p] = 1;
    const i = p * 4;
    if (!similar(i)) continue;
    const k = o.recolour ? luma(data[i], data[i + 1], data[i + 2]) / colorLuma : 1;
    out.data[i] = Math.min(255, o.color[0] * k);
    out.data[i + 1] = Math.min(255, o.color[1] * k);
    out.data[i + 2] = Math.min(255, o.color[2] * k);
    out.data[i + 3] = 255;
    const px = p % width;
    if (px > 0) stack.push(p - 1);
    if (px < width - 1) stack.push(p + 1);
    if (p >= width) stack.push(p - width);
    if (p < width * (height - 1)) stack.push(p + width);
  }
  return out;
}
