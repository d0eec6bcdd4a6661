// Writes synthetic training clips for training/ (Python reads them): <out>/clips.npy, uint8 [N, F, H, W, 3], scenes
// of seeds [first, first + N). Usage: node --import tsx scripts/write-scenes.ts <out-dir> [count] [first-seed] [frames] [size]
// Held-out seeds (benchmarks, tests) start at HELD_OUT_SEED_BASE and are never written here.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderScene, sampleScene } from '../src/scenes/index.js';
import { HELD_OUT_SEED_BASE } from '../src/scenes/held-out.js';

const [out, countArg = '2000', firstArg = '0', framesArg = '8', sizeArg = '64'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node --import tsx scripts/write-scenes.ts <out-dir> [count] [first-seed] [frames] [size]');
  process.exit(2);
}
const count = Number(countArg), first = Number(firstArg), frames = Number(framesArg), size = Number(sizeArg);
if (![count, first, frames, size].every((v) => Number.isInteger(v) && v >= 0) || count < 1 || frames < 1 || size < 8) {
  console.error('count, first-seed, frames and size must be non-negative integers (count, frames ≥ 1, size ≥ 8)');
  process.exit(2);
}
if (first + count > HELD_OUT_SEED_BASE) {
  console.error(`training seeds must stay below ${HELD_OUT_SEED_BASE} (held-out scenes start there)`);
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const per = frames * size * size * 3;
const header = npyHeader([count, frames, size, size, 3]);
const buf = Buffer.alloc(header.length + count * per);
header.copy(buf, 0);
const t0 = Date.now();
for (let i = 0; i < count; i++) {
  const clip = renderScene(sampleScene(first + i, { width: size, height: size, frames }));
  buf.set(clip.rgb, header.length + i * per);
  if ((i + 1) % 200 === 0) console.log(`${i + 1}/${count} clips (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
const file = path.join(out, 'clips.npy');
writeFileSync(`${file}.tmp`, buf);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}: ${count} clips of ${frames}×${size}×${size}, seeds ${first}..${first + count - 1}`);

/** NumPy .npy v1.0 header for a C-order uint8 array. */
function npyHeader(shape: number[]): Buffer {
  let dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}
