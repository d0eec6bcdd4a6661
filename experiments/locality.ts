/**
 * Chooses the locality thresholds (src/pipeline/locality/edit-region.ts) on tuning scenes disjoint from the quality
 * benchmark's (held-out scenes 100… instead of 0…7; none seen in training), with the toy model's real outputs.
 *
 *   node --import tsx experiments/locality.ts [--scenes 8] [--first 100] [--threads 1] [--cache /tmp/locality-cache]
 *
 * Prints, per variant of the parameters: mean mask IoU against the true edited region, and the composited output's
 * PSNR inside / outside / whole against ground truth (the benchmark's scoring), per edit kind. Outputs of the model
 * are cached, so variants cost only the mask work.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { localizeOutput, maskIoUAgainst } from '../src/eval/locality.js';
import { editCase, runMethod, scoreEdit } from '../src/eval/quality.js';
import { loadSvd } from '../src/models/svd.js';
import { LOCALITY_PARAMS, type LocalityParams } from '../src/pipeline/locality/index.js';
import { EDIT_KINDS } from '../src/scenes/index.js';
import { tensor, type Tensor } from '../src/tensor.js';

const { values } = parseArgs({ options: {
  scenes: { type: 'string', default: '8' }, first: { type: 'string', default: '100' }, threads: { type: 'string', default: '1' },
  cache: { type: 'string', default: '/tmp/locality-cache' }, variants: { type: 'string' },
} });
const svd = await loadSvd('toy', { threads: Number(values.threads) });
mkdirSync(values.cache!, { recursive: true });
const cases = [];
for (let i = 0; i < Number(values.scenes); i++) {
  for (const kind of EDIT_KINDS) {
    const c = editCase(Number(values.first) + i, kind, svd.numFrames);
    const file = path.join(values.cache!, `${c.seed}-${kind}.f32`);
    let generated: Tensor;
    if (existsSync(file)) generated = tensor(new Float32Array(readFileSync(file).buffer.slice(0)), c.source.dims);
    else {
      generated = await runMethod(svd, 'videoshop', c.source, c.editedFrame, { seed: 42 });
      writeFileSync(file, Buffer.from(generated.data.buffer));
    }
    cases.push({ c, generated });
  }
}
process.stderr.write(`${cases.length} cases ready\n`);

const variants: Record<string, Partial<LocalityParams> & { propagate?: 'tracked' | 'final' | 'adjacent' }> = {
  default: {},
  'propagate final': { propagate: 'final' },
  'propagate adjacent': { propagate: 'adjacent' },
  'depart off': { departThreshold: 1e9 },
  'depart 60': { departThreshold: 60 }, 'depart 80': { departThreshold: 80 }, 'depart 120': { departThreshold: 120 },
  'edit 12': { editThreshold: 12 }, 'edit 30': { editThreshold: 30 },
  'grow 0': { grow: 0 }, 'grow 0.04': { grow: 0.04 },
  'near 0.03': { near: 0.03 }, 'near 0.12': { near: 0.12 },
  'feather 0.01': { feather: 0.01 }, 'feather 0.04': { feather: 0.04 },
  'flow window 5': { flowWindow: 5 }, 'flow window 15': { flowWindow: 15 },
  'blur 0': { blur: 0 }, 'blur 0.02': { blur: 0.02 },
  'tight': { departThreshold: 1e9, grow: 0, feather: 0.01 },
  'tight centred': { departThreshold: 1e9, grow: 0, feather: 0.01, seam: 'centred' },
  'grow0 centred depart120': { departThreshold: 120, grow: 0, seam: 'centred' },
  'grow002 centred departoff': { departThreshold: 1e9, seam: 'centred' },
  'grow0 departoff': { departThreshold: 1e9, grow: 0 },
  'tight depart 80': { departThreshold: 80, grow: 0, feather: 0.01 },
};
const chosen = values.variants ? values.variants.split(',') : Object.keys(variants);
const rows = [];
for (const name of chosen) {
  const { propagate, ...p } = variants[name];
  const params = { ...LOCALITY_PARAMS, ...p };
  const per: Record<string, number[][]> = {};
  for (const { c, generated } of cases) {
    const loc = localizeOutput(c.source, c.editedFrame, generated, { params, propagate });
    const s = scoreEdit(loc.video, c);
    (per[c.kind] ??= []).push([maskIoUAgainst(loc.masks, c.region), s.psnr_gt_inside, s.psnr_gt_outside, s.psnr_gt, loc.global ? 1 : 0]);
  }
  const all = Object.values(per).flat();
  const mean = (xs: number[][], k: number) => xs.reduce((a, x) => a + (Number.isFinite(x[k]) ? x[k] : 60), 0) / xs.length;
  const row = {
    variant: name, iou: mean(all, 0), inside: mean(all, 1), outside: mean(all, 2), psnr: mean(all, 3), global: mean(all, 4),
    by_kind: Object.fromEntries(Object.entries(per).map(([k, xs]) => [k, { iou: mean(xs, 0), inside: mean(xs, 1), outside: mean(xs, 2) }])),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
