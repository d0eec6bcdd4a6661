/**
 * How good the time estimate before a job is (src/edit/estimate.ts fed by the test edit of src/edit/calibrate.ts,
 * what `videoshop serve` shows before its first job): estimated against measured seconds of real edits.
 *
 *   node --import tsx bench/estimate.ts --json                                  # the toy model, 64…256 px
 *   node --import tsx bench/estimate.ts --model stabilityai/stable-video-diffusion-img2vid --device cuda \
 *     --sizes 512x288,1024x576 --frames 25 --json
 *
 * Loads the model once, runs the test edit (`calibration_s`), then for each --sizes: a synthetic clip of --frames
 * frames at that size (src/scenes), the estimate for an edit at the default options, and that edit's time (model
 * already loaded, as in the server). `ratio` = estimated / measured. Then, as the server does once a job has finished,
 * the next edit at the same size (another seed) is estimated from that edit's own result and measured: `after_job`.
 * The web issue's target is `after_job.ratio` within 1.5× either way. The last line is a summary. Wall-clock: noisy on
 * a shared machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { editVideo, estimateEdit, loadModel, measurePace, writeSceneEdit, type Pace } from '../src/edit/index.js';
import { DEFAULT_OPTIONS } from '../src/pipeline/options.js';
import type { Device } from '../src/runtime/session.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    model: { type: 'string', default: 'toy' },
    device: { type: 'string', default: 'cpu' },
    sizes: { type: 'string', default: '64x64,128x128,256x256' },
    frames: { type: 'string', default: '16' },
    steps: { type: 'string', default: String(DEFAULT_OPTIONS.steps) },
  },
});

const round = (x: number) => Number(x.toFixed(2));
const frames = Number(values.frames);
const steps = Number(values.steps);
const work = mkdtempSync(path.join(os.tmpdir(), 'videoshop-bench-estimate-'));
try {
  const model = await loadModel(values.model, { device: values.device as Device });
  let t = performance.now();
  const pace = await measurePace(model);
  const calibrationS = (performance.now() - t) / 1000;
  const runs = [];
  for (const spec of values.sizes.split(',')) {
    const [width, height] = spec.split('x').map(Number);
    const { video, editedFrame } = await writeSceneEdit(work, spec, { width, height, frames, seed: 7 });
    const size = { width, height };
    const estimate = estimateEdit({ frames, width, height }, { size, steps }, { pace, basis: 'test edit' }, pace.model);
    t = performance.now();
    const first = await editVideo({ video, editedFrame, output: path.join(work, `${spec}-out.mkv`), size, steps }, { model });
    const measured = (performance.now() - t) / 1000;
    // The server's estimate once a job has finished: that job's result is the pace (src/server/server.ts latestPace).
    const jobPace: Pace = { frames: first.frames, blocks: first.blocks.length, processing: first.processing, timings_ms: first.timings,
      steps: first.steps, strength: first.strength, unet_calls: first.unetCalls };
    const next = estimateEdit({ frames, width, height }, { size, steps, seed: 8 }, { pace: jobPace, basis: 'the previous edit' }, pace.model);
    t = performance.now();
    await editVideo({ video, editedFrame, output: path.join(work, `${spec}-out2.mkv`), size, steps, seed: 8 }, { model });
    const measuredNext = (performance.now() - t) / 1000;
    runs.push({ size: spec, frames, blocks: estimate.plan.blocks, unet_steps: estimate.unetSteps, unet_calls: estimate.plan.unetCalls,
      estimated_s: estimate.seconds, measured_s: round(measured), ratio: round((estimate.seconds ?? NaN) / measured),
      after_job: { estimated_s: next.seconds, measured_s: round(measuredNext), ratio: round((next.seconds ?? NaN) / measuredNext) } });
  }
  const out = { model: values.model, device: values.device, calibration: { size: pace.processing, seconds: round(calibrationS) }, runs };
  // How far off, as a factor either way (2 = twice or half the measured time).
  const factor = (r: number) => (r >= 1 ? r : 1 / r);
  const worstAfter = Math.max(...runs.map((r) => factor(r.after_job.ratio)));
  const summary = {
    summary: true, worst_factor_test_edit: round(Math.max(...runs.map((r) => factor(r.ratio)))), worst_factor_after_job: round(worstAfter),
    after_job_within_1_5x: worstAfter <= 1.5,
  };
  if (values.json) {
    console.log(JSON.stringify(out));
    console.log(JSON.stringify(summary));
  } else {
    console.log(`test edit ${pace.processing.width}×${pace.processing.height}: ${calibrationS.toFixed(1)} s`);
    for (const r of runs) {
      console.log(`${r.size} × ${r.frames} frames (${r.blocks} blocks): estimated ${r.estimated_s} s, measured ${r.measured_s} s, ratio ${r.ratio}; ` +
        `after that job: estimated ${r.after_job.estimated_s} s, measured ${r.after_job.measured_s} s, ratio ${r.after_job.ratio}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
