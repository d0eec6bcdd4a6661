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
 * already loaded, as in the server). `ratio` = estimated / measured. Wall-clock: noisy on a shared machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { editVideo, estimateEdit, loadModel, measurePace, writeSceneEdit } from '../src/edit/index.js';
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
    await editVideo({ video, editedFrame, output: path.join(work, `${spec}-out.mkv`), size, steps }, { model });
    const measured = (performance.now() - t) / 1000;
    runs.push({ size: spec, frames, blocks: estimate.plan.blocks, unet_steps: estimate.unetSteps, unet_calls: estimate.plan.unetCalls,
      estimated_s: estimate.seconds, measured_s: Number(measured.toFixed(2)), ratio: Number(((estimate.seconds ?? NaN) / measured).toFixed(2)) });
  }
  const out = { model: values.model, device: values.device, calibration: { size: pace.processing, seconds: Number(calibrationS.toFixed(2)) }, runs };
  if (values.json) console.log(JSON.stringify(out));
  else {
    console.log(`test edit ${pace.processing.width}×${pace.processing.height}: ${calibrationS.toFixed(1)} s`);
    for (const r of runs) console.log(`${r.size} × ${r.frames} frames (${r.blocks} blocks): estimated ${r.estimated_s} s, measured ${r.measured_s} s, ratio ${r.ratio}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
