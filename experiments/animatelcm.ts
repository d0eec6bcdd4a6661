/**
 * Videoshop on AnimateLCM's σ grid (docs/method-notes.md, "AnimateLCM"): which steps and strength to default to, and
 * what guidance 1 costs. Two kinds of model, since no AnimateLCM weights can be run here:
 *
 * 1. Analytic (tests/helpers/analytic.ts), two denoisers of the same Gaussian video prior: the posterior mean (what a
 *    diffusion model like SVD learns) and the exact consistency function (what an ideally distilled AnimateLCM
 *    learns). Scores: reconstruction (edited frame = source, relative error of the frames) and edit transfer (a red
 *    square painted on the first frame: rms distance of the output to the painted video over the distance to the
 *    source, lower = the edit carried further; and the redness gained inside the square in the last frame).
 * 2. The toy SVD (models/toy, not distilled): reconstruction PSNR and ground-truth edit PSNR on held-out scenes, and
 *    the motion bucket's effect.
 *
 *   npm run experiment:animatelcm [-- --json] [--scenes N] [--no-toy] [--out partial.json] [--toy-filter 'Σ 1']
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { editCase, reconstruction, runMethod, scoreEdit } from '../src/eval/quality.js';
import { loadSvd } from '../src/models/svd.js';
import type { VideoshopOptions } from '../src/pipeline/options.js';
import { runVideoshop } from '../src/pipeline/videoshop.js';
import { EDIT_KINDS } from '../src/scenes/index.js';
import type { Tensor } from '../src/tensor.js';
import { analyticModels } from '../tests/helpers/analytic.js';
import { driftingVideo, frame as videoFrame, paintRedSquare, relativeError, rms } from '../tests/pipeline/fixtures.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false }, scenes: { type: 'string', default: '1' }, 'no-toy': { type: 'boolean', default: false },
    out: { type: 'string' },
    /** Only the toy settings whose name contains this (and no motion-bucket runs): to rerun one row. */
    'toy-filter': { type: 'string' },
  },
  strict: true,
});
const scenes = Number(values.scenes);
const log = (s: string) => process.stderr.write(`${s}\n`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Setting { readonly name: string; readonly options: Partial<VideoshopOptions> }
const G1 = { minGuidance: 1, maxGuidance: 1 };
const lcm = (steps: number, strength: number, extra: Partial<VideoshopOptions> = {}, label = ''): Setting => ({
  name: `animatelcm ${steps} × ${strength}, g 1${label}`, options: { sampler: 'animatelcm', steps, strength, ...G1, ...extra },
});
const SETTINGS: Setting[] = [
  { name: 'euler 25 × 0.55, g 4 (paper)', options: {} },
  { name: 'euler 25 × 0.55, g 1', options: { ...G1 } },
  { name: 'euler 8 × 0.5, g 1', options: { steps: 8, strength: 0.5, ...G1 } },
  // At most 8 UNet calls: ⌊steps·strength⌋ ≤ 4 steps run.
  lcm(2, 1, { threshold: 1 }, ', Σ 1'), lcm(4, 0.5, { threshold: 1 }, ', Σ 1'), lcm(4, 1, { threshold: 1 }, ', Σ 1'),
  lcm(4, 1, { threshold: 0 }, ', Σ 0'),
  lcm(8, 0.5, { threshold: 1 }, ', Σ 1'), lcm(8, 0.5, { threshold: 0.5 }, ', Σ 0.5'), lcm(8, 0.5, { threshold: 0 }, ', Σ 0 (default)'),
  lcm(8, 0.5, { threshold: 0, inversion: 'naive' }, ', naive'),
  lcm(6, 0.67, { threshold: 0 }, ', Σ 0'), lcm(10, 0.4, { threshold: 0 }, ', Σ 0'),
  // More calls, for comparison.
  lcm(8, 0.75, { threshold: 0 }, ', Σ 0'),
  lcm(8, 0.5, { threshold: 0, maxGuidance: 1.2 }, ', Σ 0, max g 1.2 (batch 2)'),
];

/** The toy runs a real (small) UNet on a shared 2-core machine: the settings that decide the defaults. */
const TOY_SETTINGS = [
  'animatelcm 8 × 0.5, g 1, Σ 0 (default)', 'animatelcm 8 × 0.5, g 1, Σ 1', 'animatelcm 4 × 1, g 1, Σ 0', 'euler 8 × 0.5, g 1',
  'euler 25 × 0.55, g 4 (paper)', 'animatelcm 10 × 0.4, g 1, Σ 0',
];

// 1. Analytic.
const F = 8;
const video = driftingVideo(F);
const source = videoFrame(video, 0);
const painted = paintRedSquare(video);
const FRAME = 3 * 64 * 64;
function redGain(out: Tensor, base: Tensor, f: number): number {
  let red = 0;
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) red += out.data[f * FRAME + y * 64 + x] - base.data[f * FRAME + y * 64 + x];
  return red / 1024;
}
interface AnalyticRow {
  denoiser: string; setting: string; unet_calls: number; recon_rel_error: number; edit_distance_ratio: number; red_gain_last_frame: number;
}
const analytic: AnalyticRow[] = [];
for (const consistency of [false, true]) {
  for (const s of SETTINGS) {
    const models = analyticModels({}, 14, consistency);
    const recon = await runVideoshop(models, { video, editedFrame: source }, s.options);
    const edit = await runVideoshop(models, { video, editedFrame: videoFrame(painted, 0) }, s.options);
    analytic.push({
      denoiser: consistency ? 'consistency (ideal AnimateLCM)' : 'posterior mean (diffusion)',
      setting: s.name,
      unet_calls: edit.unetCalls,
      recon_rel_error: relativeError(recon.frames.data, video.data),
      edit_distance_ratio: rms(edit.frames.data, painted.data) / rms(edit.frames.data, video.data),
      red_gain_last_frame: redGain(edit.frames, recon.frames, F - 1),
    });
  }
}
log('analytic done');

// 2. Toy (results saved after each setting to --out, so a long run can be read while it goes).
const toy: { setting: string; recon_psnr: number; edit_psnr_gt: number }[] = [];
let motion: { bucket: number; edit_psnr_gt: number }[] = [];
const save = () => { if (values.out) writeFileSync(values.out, JSON.stringify({ scenes, analytic, toy, motion }, null, 2)); };
if (!values['no-toy']) {
  const svd = await loadSvd('toy', { onNotice: log });
  motion = [];
  for (const bucket of values['toy-filter'] ? [] : [80, 127]) {
    const edits = [];
    for (let i = 0; i < scenes; i++) {
      for (const kind of EDIT_KINDS.slice(0, 2)) {
        const c = editCase(i, kind, svd.numFrames);
        const options = { sampler: 'animatelcm' as const, ...G1, threshold: 0, motionBucket: bucket };
        edits.push(scoreEdit(await runMethod(svd, 'videoshop', c.source, c.editedFrame, options), c).psnr_gt);
      }
    }
    motion.push({ bucket, edit_psnr_gt: mean(edits) });
    save();
    log(`toy: motion bucket ${bucket}: edit ${mean(edits).toFixed(2)} dB`);
  }
  const filter = values['toy-filter'];
  for (const s of SETTINGS.filter((x) => TOY_SETTINGS.includes(x.name) && (!filter || x.name.includes(filter)))) {
    const recon = [], edits = [];
    for (let i = 0; i < scenes; i++) {
      recon.push((await reconstruction(svd, editCase(i, 'recolor', svd.numFrames), s.options)).psnr);
      for (const kind of EDIT_KINDS.slice(0, 2)) {
        const c = editCase(i, kind, svd.numFrames);
        edits.push(scoreEdit(await runMethod(svd, 'videoshop', c.source, c.editedFrame, s.options), c).psnr_gt);
      }
    }
    toy.push({ setting: s.name, recon_psnr: mean(recon), edit_psnr_gt: mean(edits) });
    save();
    log(`toy: ${s.name}: recon ${mean(recon).toFixed(2)} dB, edit ${mean(edits).toFixed(2)} dB`);
  }
  await svd.release();
}

save();
const report = { scenes, analytic, toy, toy_motion_bucket_animatelcm_defaults: motion };
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  const f = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : 'NaN');
  console.log('analytic                          setting                              calls  recon err  edit ratio  red gain');
  for (const a of analytic) {
    console.log(`${a.denoiser.padEnd(34)}${a.setting.padEnd(37)}${String(a.unet_calls).padStart(5)}${f(a.recon_rel_error).padStart(11)}` +
      `${f(a.edit_distance_ratio).padStart(12)}${f(a.red_gain_last_frame).padStart(10)}`);
  }
  console.log(`toy (${scenes} scenes)                          recon PSNR  edit PSNR_gt`);
  for (const t of toy) console.log(`${t.setting.padEnd(40)}${f(t.recon_psnr, 2).padStart(10)}${f(t.edit_psnr_gt, 2).padStart(14)}`);
  for (const m of motion) console.log(`toy, animatelcm defaults, motion bucket ${m.bucket}: edit PSNR_gt ${f(m.edit_psnr_gt, 2)}`);
}
