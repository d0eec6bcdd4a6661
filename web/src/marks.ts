/**
 * The region marks as the server takes them (POST /api/jobs and /api/uploads/:id/region, file fields `mask` and
 * `keep_mask`): a PNG of the frame's size, white where marked, black elsewhere. Drawn from the strokes' points, so
 * a mark is exactly where the user drew it, whatever the zoom; a mask brought back from a job is laid in as it was.
 */
import type { RegionMark } from './editor.js';

export interface MarkImages {
  /** Added to the region the edit changes (`mask`); null: none drawn. */
  mask: Blob | null;
  /** Protected: stays exactly as in the video (`keep_mask`); null: none drawn. */
  keepMask: Blob | null;
}

export async function markImages(marks: readonly RegionMark[], width: number, height: number): Promise<MarkImages> {
  const [mask, keepMask] = await Promise.all((['add', 'keep'] as const).map((kind) => draw(marks.filter((m) => m.kind === kind), width, height)));
  return { mask, keepMask };
}

async function draw(marks: readonly RegionMark[], width: number, height: number): Promise<Blob | null> {
  if (marks.length === 0) return null;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#000';
  g.fillRect(0, 0, width, height);
  g.strokeStyle = '#fff';
  g.lineCap = 'round';
  g.lineJoin = 'round';
  for (const m of marks) {
    if (m.image) {
      // A whole mask (a job's, brought back): white over what is there, nothing else changed.
      const bitmap = await createImageBitmap(m.image);
      g.globalCompositeOperation = 'lighten';
      g.drawImage(bitmap, 0, 0, width, height);
      g.globalCompositeOperation = 'source-over';
      bitmap.close();
      continue;
    }
    g.lineWidth = m.width;
    g.beginPath();
    g.moveTo(m.points[0], m.points[1]);
    for (let i = 2; i + 1 < m.points.length; i += 2) g.lineTo(m.points[i], m.points[i + 1]);
    g.stroke();
  }
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('could not encode the marks'))), 'image/png'));
}

/** A grey mask already drawn on `canvas` painted as `rgba` where white (over 127), transparent elsewhere. */
export function tintMask(canvas: HTMLCanvasElement, rgba: readonly [number, number, number, number]): void {
  const g = canvas.getContext('2d')!;
  const px = g.getImageData(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < px.data.length; i += 4) px.data.set(px.data[i] > 127 ? rgba : [0, 0, 0, 0], i);
  g.putImageData(px, 0, 0);
}
