/**
 * What keeping the unedited pixels costs (issue 17): the same toy-model edit of a 1080p clip with `keep-unedited
 * auto` (track the edit, read the source at its size, composite) and `off`, alternated; `timings.keep` is the
 * feature's own time, `share` its part of the whole edit. Target: under 10% of a toy edit at 1080p.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { editVideo, exportFrame, loadModel } from '../../src/edit/index.js';
import { median } from './stats.js';

export interface LocalityReport {
  readonly clip: string;
  readonly runs: number;
  readonly keep_ms: number;
  readonly total_auto_ms: number;
  readonly total_off_ms: number;
  /** keep_ms / total_auto_ms. */
  readonly share: number;
  readonly goal_met: boolean;
}

export async function benchLocality(workDir: string, threads: number, runs = 2): Promise<LocalityReport> {
  const dir = path.join(workDir, 'locality');
  mkdirSync(dir, { recursive: true });
  const clip = path.join(dir, 'clip-1080p.mp4');
  if (!existsSync(clip)) {
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=24,trim=end_frame=24',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip]);
  }
  // The edit: a 320×200 patch of the first frame recoloured (a localized edit, 3% of the frame).
  const first = path.join(dir, 'first.png'), edited = path.join(dir, 'edited.png');
  await exportFrame(clip, first, { index: 0, force: true });
  const patch = await sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 230, g: 40, b: 160 } } }).png().toBuffer();
  await sharp(first).composite([{ input: patch, left: 800, top: 420 }]).toFile(edited);
  const model = await loadModel('toy', { threads });
  const keep: number[] = [], auto: number[] = [], off: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      for (const mode of ['auto', 'off'] as const) {
        const output = path.join(dir, `out-${mode}.mp4`);
        rmSync(output, { force: true });
        const r = await editVideo({ video: clip, editedFrame: edited, output, keepUnedited: mode, force: true }, { model });
        (mode === 'auto' ? auto : off).push(r.timings.total);
        if (mode === 'auto') keep.push(r.timings.keep);
      }
    }
  } finally {
    await model.release();
  }
  const share = median(keep) / median(auto);
  return {
    clip: '24 frames of 1920×1080 H.264, toy model, a 320×200 patch recoloured', runs,
    keep_ms: Math.round(median(keep)), total_auto_ms: Math.round(median(auto)), total_off_ms: Math.round(median(off)),
    share: Math.round(share * 1000) / 1000, goal_met: share < 0.1,
  };
}
