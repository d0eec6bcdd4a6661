/**
 * Two questions on the trained toy model (docs/method-notes.md, "On a trained network"):
 * 1. Fig. 3: are the denoising trajectory's x_t − x_0 as collinear on this network as on SVD? Plain image-to-video
 *    generation from held-out scenes' first frames (25 steps, seeded), cosine statistics next to the paper's.
 * 2. Threshold Σ: does Eq. 6's noise branch below Σ = 1 beat extrapolating on every step (Σ = 0; only the σ = 0
 *    step, where Eq. 7 divides by zero, takes the noise branch)? Sweep Σ on reconstruction and on ground-truth edits
 *    (recolour and replace-shape per scene).
 *
 *   npm run experiment:toy [-- --json] [--scenes N] [--model toy]
 */
import { parseArgs } from 'node:util';
import { editCase, frame, runMethod, scoreEdit } from '../src/eval/quality.js';
import { PAPER_TRAJECTORY_STATS } from '../src/eval/run-trajectory.js';
import { aggregateTrajectoryStats, trajectoryMatrix, trajectoryStats } from '../src/eval/trajectory.js';
import { loadSvd } from '../src/models/svd.js';
import { generateTrajectory } from '../src/pipeline/generate.js';
import { runVideoshop } from '../src/pipeline/videoshop.js';
import { EDIT_KINDS } from '../src/scenes/index.js';
import { psnrFromMse } from '../src/eval/psnr.js';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, scenes: { type: 'string', default: '3' }, model: { type: 'string', default: 'toy' } },
  strict: true,
});
const scenes = Number(values.scenes);
if (!Number.isInteger(scenes) || scenes < 1) {
  console.error(`--scenes must be a positive integer, got ${values.scenes}`);
  process.exit(2);
}
const log = (s: string) => process.stderr.write(`${s}\n`);
const svd = await loadSvd(values.model, { onNotice: log });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// 1. Trajectory statistics.
const stats = [];
for (let i = 0; i < scenes; i++) {
  const c = editCase(i, 'recolor', svd.numFrames);
  const traj = await generateTrajectory(svd.models, frame(c.source, 0), { frames: svd.numFrames, steps: 25, seed: 42, scheduler: svd.scheduler });
  const x0 = traj.states[traj.states.length - 1];
  stats.push(trajectoryStats(trajectoryMatrix(traj.states.slice(0, -1), x0)));
}
const trajectory = { toy: aggregateTrajectoryStats(stats), paper: PAPER_TRAJECTORY_STATS, per_scene: stats };
log('trajectory done');

// 2. Threshold sweep: reconstruction (latent error and PSNR) and ground-truth edit PSNR, per Σ.
const THRESHOLDS: (number | null)[] = [0, 0.5, 1, 2, null];
const sweep = [];
for (const threshold of THRESHOLDS) {
  const recon = [], latentErr = [], edits = [];
  for (let i = 0; i < scenes; i++) {
    const c = editCase(i, 'recolor', svd.numFrames);
    const r = await runVideoshop(svd.models, { video: c.source, editedFrame: frame(c.source, 0) }, { threshold, scheduler: svd.scheduler });
    // Latent round trip: denoised vs the normalized source latents the inversion started from (relative error).
    const enc = await svd.models.vae.encode(c.source);
    const ok = r.frames.data.every(Number.isFinite);
    let se = 0;
    for (let k = 0; k < r.frames.data.length; k++) se += (Math.min(1, Math.max(-1, r.frames.data[k])) - c.source.data[k]) ** 2;
    recon.push(ok ? psnrFromMse(se / r.frames.data.length) : NaN);
    const sf = svd.models.vae.scalingFactor;
    let num = 0, den = 0;
    for (let k = 0; k < enc.data.length; k++) { num += (r.latents.data[k] - enc.data[k] * sf) ** 2; den += (enc.data[k] * sf) ** 2; }
    latentErr.push(ok ? Math.sqrt(num / den) : NaN);
    for (const kind of EDIT_KINDS.slice(0, 2)) {
      const e = editCase(i, kind, svd.numFrames);
      edits.push(scoreEdit(await runMethod(svd, 'videoshop', e.source, e.editedFrame, { threshold }), e).psnr_gt);
    }
  }
  sweep.push({ threshold, reconstruction_psnr: mean(recon), reconstruction_latent_rel_error: mean(latentErr), edit_psnr_gt: mean(edits) });
  log(`Σ = ${threshold} done`);
}
await svd.release();

const report = { model: values.model, scenes, trajectory, threshold_sweep: sweep };
if (values.json) console.log(JSON.stringify(report, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
else {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'NaN');
  console.log(`Fig. 3 statistics (toy | paper): mean all pairs ${f(trajectory.toy.meanAllPairs)} | ${PAPER_TRAJECTORY_STATS.meanAllPairs}, ` +
    `mean adjacent ${f(trajectory.toy.meanAdjacent)} | ${PAPER_TRAJECTORY_STATS.meanAdjacent}, min adjacent ${f(trajectory.toy.minAdjacent)} | ${PAPER_TRAJECTORY_STATS.minAdjacent}`);
  console.log('Σ        recon PSNR   recon latent err   edit PSNR_gt');
  for (const s of sweep) console.log(`${String(s.threshold ?? 'none').padEnd(9)}${f(s.reconstruction_psnr).padStart(10)}${f(s.reconstruction_latent_rel_error).padStart(19)}${f(s.edit_psnr_gt).padStart(15)}`);
}
