/**
 * Localized editing on real footage nobody here made: OpenCV's vtest.avi (Debian's opencv-doc, 768×576, people
 * walking). The white van in the corner is recoloured in the first frame; the edit is written losslessly (FFV1) and
 * every pixel away from the van is compared with the source's own decode. Writes the README's picture
 * (source | output | difference ×8) to docs/images/keep-unedited-vtest.png.
 *
 *   node --import tsx experiments/real-footage.ts [--video /usr/share/doc/opencv-doc/examples/data/vtest.avi] [--seconds 3]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { editVideo, exportFrame } from '../src/edit/index.js';
import { decode, differences, paintVan, VTEST } from '../tests/helpers/vtest.js';

{
  const { values } = parseArgs({ options: { video: { type: 'string', default: VTEST }, seconds: { type: 'string', default: '3' } } });
  const dir = mkdtempSync(path.join(tmpdir(), 'videoshop-real-'));
  const first = path.join(dir, 'first.png'), edited = path.join(dir, 'edited.png');
  await exportFrame(values.video!, first, { index: 0 });
  await paintVan(first, edited);
  const output = path.join(dir, 'out.mkv');
  const r = await editVideo({ video: values.video!, editedFrame: edited, output, duration: Number(values.seconds), model: 'toy', codec: 'ffv1',
    maskOut: path.join(dir, 'mask.mkv') });
  const src = decode(values.video!).subarray(0, r.frames * r.width * r.height * 3), dst = decode(output);
  const d = differences(src, dst, r.width, r.height, 48);
  console.log(JSON.stringify({ frames: r.frames, size: `${r.width}x${r.height}`, processing: r.processing, differing_far: d.far, differing_near: d.near, farthest_px: d.farthest,
    keep_ms: Math.round(r.timings.keep), total_ms: Math.round(r.timings.total), warnings: r.warnings, dir }));
  // The picture: a late frame of the source, the output, and |output − source| × 8.
  const t = r.frames - 1, bytes = r.width * r.height * 3;
  const s = src.subarray(t * bytes, (t + 1) * bytes), o = dst.subarray(t * bytes, (t + 1) * bytes);
  const diff = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) diff[i] = Math.min(255, Math.abs(s[i] - o[i]) * 8);
  const raw = { width: r.width, height: r.height, channels: 3 as const };
  const tiles = await Promise.all([s, o, diff].map((b) => sharp(Buffer.from(b), { raw }).resize(384).png().toBuffer()));
  await sharp({ create: { width: 384 * 3 + 16, height: 288, channels: 3, background: 'white' } })
    .composite(tiles.map((input, i) => ({ input, left: i * (384 + 8), top: 0 }))).png().toFile('docs/images/keep-unedited-vtest.png');
}
