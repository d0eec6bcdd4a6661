/**
 * Edit quality against ground truth on held-out synthetic scenes (seeds never used in training), with the toy model.
 *
 *   npm run bench:quality -- --json [--scenes N] [--model toy] [--threads N] [--methods a,b] [--long-frames 16]
 *     [--first-scene I] [--kinds recolor,add] [--skip-extras] [--rows FILE] [--per-edit]
 *
 * Every held-out scene gets every edit kind (recolour, replace shape, add, remove); each method edits the source from
 * the ground-truth edited first frame and is scored against the ground-truth edited video. The JSON object holds
 * `methods` (per method the mean over edits of psnr_gt, ssim_gt, psnr_gt_inside, psnr_gt_outside, flow_epe, seconds),
 * `reconstruction` (psnr, ssim: invert, regenerate with the unedited frame; vae_round_trip_psnr: the VAE's ceiling), `long_video` (psnr_gt_by_block of a
 * 3-block video edited in blocks), `by_kind` (videoshop and no-source per edit kind) and the settings. Without --json
 * a table. Progress goes to stderr. Timings are wall-clock on a shared machine: noisy.
 *
 * Every method gets an edit mask (the true region dilated by 2 px); only the `inside-*` methods (Videoshop with one
 * `insideEdit` variant) use it. `composited` scores the output pasted over the source with that mask, as the product
 * will show it; `by_kind_detail` has inside / outside / whole per edit kind, raw and composited. --first-scene and
 * --kinds pick a subset of edits, --skip-extras skips reconstruction and the long video, --rows appends one JSON line
 * per (edit, method) as it finishes (to merge runs split over processes), --per-edit adds the rows to the JSON.
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  EXTRA_METHODS, INSIDE_METHODS, QUALITY_METHODS, compositeOver, editCase, editCases, editMaskFor, longVideoByBlock, reconstruction, runMethod,
  scoreEdit, vaeRoundTripPsnr,
  type EditScores, type QualityMethod,
} from '../src/eval/quality.js';
import { loadSvd } from '../src/models/svd.js';
import { EDIT_KINDS } from '../src/scenes/index.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    scenes: { type: 'string', default: '4' },
    'first-scene': { type: 'string', default: '0' },
    'skip-extras': { type: 'boolean', default: false },
    'per-edit': { type: 'boolean', default: false },
    rows: { type: 'string' },
    kinds: { type: 'string' },
    model: { type: 'string', default: 'toy' },
    threads: { type: 'string' },
    methods: { type: 'string' },
    'long-frames': { type: 'string', default: '16' },
    seed: { type: 'string', default: '42' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log('npm run bench:quality -- [--json] [--scenes N] [--model toy|DIR] [--threads N] [--methods videoshop,no-source,…] [--long-frames F] [--seed S]');
  process.exit(0);
}
const int = (v: string | undefined, name: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    process.exit(2);
  }
  return n;
};
const sceneCount = int(values.scenes, 'scenes', 1);
const firstScene = int(values['first-scene'], 'first-scene', 0);
const longFrames = int(values['long-frames'], 'long-frames', 2);
const seed = int(values.seed, 'seed', 0);
const threads = values.threads === undefined ? undefined : int(values.threads, 'threads', 1);
const known: readonly string[] = [...QUALITY_METHODS, ...EXTRA_METHODS, ...INSIDE_METHODS];
const methods = (values.methods ? values.methods.split(',') : [...QUALITY_METHODS, ...EXTRA_METHODS]) as QualityMethod[];
for (const m of methods) {
  if (!known.includes(m)) {
    console.error(`--methods: unknown method ${m}; choose from ${known.join(', ')}`);
    process.exit(2);
  }
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const svd = await loadSvd(values.model, { threads, onNotice: log });
const base = { seed };
const kinds = values.kinds ? values.kinds.split(',') : [...EDIT_KINDS];
const cases = editCases(firstScene + sceneCount, svd.numFrames).slice(firstScene * EDIT_KINDS.length).filter((c) => kinds.includes(c.kind));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
type Row = { s: EditScores; composited: EditScores; seconds: number; kind: string; label: string };
const scores = new Map<QualityMethod, Row[]>(methods.map((m) => [m, []]));
const t0 = performance.now();
for (const [i, c] of cases.entries()) {
  // Every method gets the same edit mask (the true region dilated); only the inside-* methods use it. Composited:
  // the source's own pixels outside that mask, as the product will show them.
  const mask = editMaskFor(c.region);
  for (const m of methods) {
    const t = performance.now();
    const out = await runMethod(svd, m, c.source, c.editedFrame, base, mask);
    const seconds = (performance.now() - t) / 1000;
    const row = { s: scoreEdit(out, c), composited: scoreEdit(compositeOver(c.source, out, mask), c), seconds, kind: c.kind, label: c.label };
    scores.get(m)!.push(row);
    // --rows FILE: one JSON line per (edit, method) as it finishes, so that runs split over processes can be merged.
    if (values.rows) appendFileSync(values.rows, `${JSON.stringify({ method: m, seed: c.seed, ...row })}\n`);
  }
  log(`edit ${i + 1}/${cases.length} (${c.label}, ${c.kind}) done, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const recon = [], vaeCeiling = [];
let long: number[] = [];
if (!values['skip-extras']) {
  for (let i = firstScene; i < firstScene + sceneCount; i++) {
    recon.push(await reconstruction(svd, editCase(i, 'recolor', svd.numFrames), base));
    vaeCeiling.push(await vaeRoundTripPsnr(svd, editCase(i, 'recolor', svd.numFrames)));
  }
  log('reconstruction done');
  long = await longVideoByBlock(svd, editCase(0, 'recolor', longFrames), svd.numFrames, base);
  log('long video done');
}
await svd.release();

// A NaN output (no-threshold) makes its row NaN → null in JSON, as Table 5's "NaN"; non_finite counts such edits.
const summary = (rows: { s: EditScores; seconds: number }[]) => ({
  edits: rows.length,
  psnr_gt: mean(rows.map((r) => r.s.psnr_gt)),
  ssim_gt: mean(rows.map((r) => r.s.ssim_gt)),
  psnr_gt_inside: mean(rows.map((r) => r.s.psnr_gt_inside)),
  psnr_gt_outside: mean(rows.map((r) => r.s.psnr_gt_outside)),
  flow_epe: mean(rows.map((r) => r.s.flow_epe)),
  seconds: mean(rows.map((r) => r.seconds)),
  non_finite: rows.filter((r) => Number.isNaN(r.s.psnr_gt)).length,
});
const round = (v: unknown): unknown => (typeof v === 'number' ? (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null)
  : Array.isArray(v) ? v.map(round) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)])) : v);
const report = round({
  model: values.model, // as given ("toy" or a Hub id): a local folder path would leak into docs/
  scenes: sceneCount,
  first_scene: firstScene,
  edits: cases.length,
  edit_kinds: EDIT_KINDS,
  frames: svd.numFrames,
  size: [cases[0].source.dims[3], cases[0].source.dims[2]],
  seed,
  methods: Object.fromEntries(methods.map((m) => [m, summary(scores.get(m)!)])),
  composited: Object.fromEntries(methods.map((m) => [m, summary(scores.get(m)!.map((r) => ({ s: r.composited, seconds: r.seconds })))])),
  by_kind: Object.fromEntries(methods.filter((m) => m === 'videoshop' || m === 'no-source').map((m) => [m,
    Object.fromEntries(EDIT_KINDS.map((k) => [k, mean(scores.get(m)!.filter((r) => r.kind === k).map((r) => r.s.psnr_gt))]))])),
  // Per method and edit kind: PSNR_gt inside / outside / whole, raw and composited.
  by_kind_detail: Object.fromEntries(methods.map((m) => [m, Object.fromEntries(EDIT_KINDS.map((k) => {
    const rows = scores.get(m)!.filter((r) => r.kind === k);
    const pick = (key: 'psnr_gt_inside' | 'psnr_gt_outside' | 'psnr_gt', which: 's' | 'composited') => mean(rows.map((r) => r[which][key]));
    return [k, {
      inside: pick('psnr_gt_inside', 's'), outside: pick('psnr_gt_outside', 's'), whole: pick('psnr_gt', 's'),
      inside_composited: pick('psnr_gt_inside', 'composited'), outside_composited: pick('psnr_gt_outside', 'composited'),
      whole_composited: pick('psnr_gt', 'composited'),
    }];
  }))])),
  reconstruction: { psnr: mean(recon.map((r) => r.psnr)), ssim: mean(recon.map((r) => r.ssim)), vae_round_trip_psnr: mean(vaeCeiling) },
  long_video: { frames: longFrames, block_frames: svd.numFrames, psnr_gt_by_block: long },
  seconds_total: (performance.now() - t0) / 1000,
  ...(values['per-edit'] ? { per_edit: Object.fromEntries(methods.map((m) => [m, scores.get(m)!])) } : {}),
}) as Record<string, unknown>;

if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const m = report.methods as Record<string, Record<string, number>>;
  const cols = ['psnr_gt', 'ssim_gt', 'psnr_gt_inside', 'psnr_gt_outside', 'flow_epe', 'seconds', 'non_finite'];
  console.log(`${'method'.padEnd(18)}${cols.map((c) => c.padStart(16)).join('')}`);
  for (const [name, row] of Object.entries(m)) console.log(`${name.padEnd(18)}${cols.map((c) => String(row[c]).padStart(16)).join('')}`);
  const r = report.reconstruction as Record<string, number>;
  console.log(`reconstruction: psnr ${r.psnr} dB, ssim ${r.ssim} (VAE encode→decode alone: ${r.vae_round_trip_psnr} dB)`);
  console.log(`long video psnr_gt by block: ${(report.long_video as { psnr_gt_by_block: number[] }).psnr_gt_by_block.join(', ')} dB`);
}
