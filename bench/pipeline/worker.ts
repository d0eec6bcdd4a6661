/**
 * One model's bench, run in its own process so its peak RSS is its own: prepare the random-weight model and the clip,
 * time PyTorch's calls (before we load anything, so the two never hold the weights at once), load ours, time our
 * calls and check they agree with PyTorch's, then run the full edit.
 */
import path from 'node:path';
import { loadSvd } from '../../src/models/svd.js';
import { parseVaeConfig } from '../../src/models/vae/config.js';
import type { Device } from '../../src/runtime/session.js';
import { makeCalls, reportCalls, runOurCalls, runTorchCalls, TorchServer, type CallName, type TorchResults } from './calls.js';
import { benchEdit } from './edit.js';
import { benchModelSpec, describeModel, prepareModel, type BenchModelName } from './models.js';
import { peakRssMb, ratio, round } from './stats.js';
import { benchVariants } from './variants.js';
import { makeClip } from './video.js';

export interface WorkerOptions {
  readonly name: BenchModelName;
  readonly workDir: string;
  readonly threads: number;
  readonly device: Device;
  readonly repeats: number;
  /** Untimed calls before the timed ones (the first builds our session). */
  readonly warmups: number;
  /** Width factor of the mid model. */
  readonly midWidth: number;
  readonly torch: boolean;
  /** How PyTorch's calls are timed: alternating with ours, all before ours, or auto (interleaved when it fits). */
  readonly torchMode: TorchMode;
  readonly variants: boolean;
}

export type TorchMode = 'auto' | 'interleaved' | 'sequential';

/** On cpu above this many parameters (float32: 4 GB), ours and PyTorch's copies are not held at once: sequential. */
const INTERLEAVE_MAX_PARAMETERS = 1e9;

/** Largest |ours − PyTorch| accepted as "the same computation". */
export function tolerance(dtype: 'float32' | 'float16'): number {
  return dtype === 'float32' ? 1e-3 : 5e-2;
}

export async function runWorker(o: WorkerOptions) {
  const log = (m: string) => process.stderr.write(`[${o.name}] ${m}\n`);
  const spec = benchModelSpec(o.name, o.midWidth);
  const notes: string[] = [];
  let t = performance.now();
  const model = prepareModel(spec, o.workDir);
  log(`model folder ${model.folder} (${model.reused ? 'reused' : `written in ${((performance.now() - t) / 1e3).toFixed(0)} s`})`);
  const dir = path.join(o.workDir, o.name);
  const clip = makeClip(dir, spec.frames, spec.width, spec.height);

  const dtype = o.device === 'cpu' ? 'float32' : 'float16';
  const vae = parseVaeConfig(spec.configs.vae);
  const dtypes = { unet: dtype, clip: dtype, vae: dtype === 'float16' && !vae.forceUpcast ? 'float16' : 'float32' };
  const calls = makeCalls(spec);
  const params = describeModel(spec).parameters;
  const torchMode = !o.torch ? 'off'
    : o.torchMode !== 'auto' ? o.torchMode
    : o.device !== 'cpu' || params.unet + params.vae + params.clip <= INTERLEAVE_MAX_PARAMETERS ? 'interleaved' : 'sequential';
  const torchDir = path.join(dir, 'torch');
  const torchOptions = { threads: o.threads, warmups: o.warmups, repeats: o.repeats, device: o.device, dtypes };
  let torch: TorchResults | null = null;
  let server: TorchServer | undefined;
  if (torchMode === 'off') notes.push('PyTorch comparison skipped (--no-torch)');
  if (torchMode === 'sequential') {
    log('PyTorch calls (tests/oracle/bench_calls.py), before ours: the weights would not fit in RAM twice…');
    const r = await runTorchCalls(calls, model.folder, torchDir, torchOptions);
    if (typeof r === 'string') notes.push(`PyTorch comparison skipped: ${r}`);
    else torch = r;
  }
  if (torchMode === 'interleaved') {
    const r = await TorchServer.start(calls, model.folder, torchDir, torchOptions);
    if (typeof r === 'string') notes.push(`PyTorch comparison skipped: ${r}`);
    else server = r;
  }

  t = performance.now();
  const svd = await loadSvd(model.folder, { device: o.device, threads: o.threads, cacheDir: path.join(o.workDir, 'graphs') });
  const openMs = performance.now() - t;
  log(`loadSvd ${openMs.toFixed(0)} ms; our calls${server ? ', alternating with PyTorch\'s' : ''}…`);
  let ours;
  try {
    ours = await runOurCalls(svd, calls, o.warmups, o.repeats, log, server);
    if (server) torch = await server.finish();
  } finally {
    server?.kill();
  }
  const sessionMs = (n: CallName) => round(ours[n].sessionMs);
  const loadMs = openMs + (Object.keys(ours) as CallName[]).reduce((s, n) => s + ours[n].sessionMs, 0);
  const callReports = reportCalls(calls, ours, torch, tolerance(dtype));
  for (const [name, r] of Object.entries(callReports)) {
    if (r.agree === false) notes.push(`${name}: ours and PyTorch differ by ${r.max_abs_diff} (> ${tolerance(dtype)}): not the same computation?`);
  }

  log('full edit…');
  const edit = await benchEdit(svd, {
    video: clip.video, editedFrame: clip.editedFrame, output: path.join(dir, 'edited.mp4'),
    width: spec.width, height: spec.height, frames: spec.frames, threads: o.threads, device: o.device,
  }, log);
  // The same edit on AnimateLCM's few-step defaults (the sampler's cost does not depend on the weights).
  log('full edit, AnimateLCM sampler…');
  const lcmEdit = await benchEdit(svd, {
    video: clip.video, editedFrame: clip.editedFrame, output: path.join(dir, 'edited-animatelcm.mp4'),
    width: spec.width, height: spec.height, frames: spec.frames, threads: o.threads, device: o.device, scheduler: 'animatelcm',
  }, log);
  const perScheduler = (e: typeof edit) => ({
    ...e.edit, total_ms: e.stages_ms.total, invert_ms: e.stages_ms.invert, denoise_ms: e.stages_ms.denoise,
  });
  const peak = peakRssMb();
  await svd.release();
  const variants = o.variants ? await benchVariants(model.folder, calls, { threads: o.threads, device: o.device, repeats: o.repeats, dtype,
    cacheDir: path.join(o.workDir, 'graphs') }, log) : undefined;

  const speedups = Object.values(callReports).map((r) => r.speedup).filter((x): x is number => x !== null);
  return {
    model: describeModel(spec),
    dtype,
    stages_ms: { load: round(loadMs), ...edit.stages_ms, total_with_load: round(edit.stages_ms.total + loadMs) },
    load_detail_ms: {
      open: round(openMs),
      session_build: { unet: sessionMs('unet_batch1'), vae_encoder: sessionMs('vae_encode'), vae_decoder: sessionMs('vae_decode'),
        clip_in_open: 'built inside loadSvd (loadClip creates its session eagerly)' },
    },
    unet_calls_in_edit: edit.unet_calls,
    /** One edit per sampler at its defaults, same model and clip: time per edit and UNet calls. */
    edit_per_scheduler: {
      euler: perScheduler(edit),
      animatelcm: perScheduler(lcmEdit),
      speedup_total: ratio(edit.stages_ms.total / lcmEdit.stages_ms.total),
    },
    outside_ort: { ...edit.outside_ort, met: edit.outside_ort.share <= edit.outside_ort.goal },
    peak_rss_mb: peak,
    calls: callReports,
    min_speedup: speedups.length ? ratio(Math.min(...speedups)) : null,
    torch_mode: torchMode,
    torch: torch ? { version: torch.torch, threads: torch.threads, load_ms: Object.fromEntries(Object.entries(torch.load_ms).map(([k, v]) => [k, round(v)])),
      peak_rss_mb: torch.peak_rss_mb } : null,
    edit_output: edit.output,
    variants,
    notes,
  };
}

export type ModelReport = Awaited<ReturnType<typeof runWorker>>;
