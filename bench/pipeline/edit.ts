/**
 * One full Videoshop edit through `editVideo`, on an already loaded model (sessions built), measured per stage: wall
 * time, time inside ONNX Runtime's run (runtimeStats), and each UNet call by batch size.
 */
import type { EditProgress, EditResult } from '../../src/edit/index.js';
import { editVideo } from '../../src/edit/edit-video.js';
import type { SvdModel } from '../../src/models/svd.js';
import type { Denoiser, DenoiserInput } from '../../src/models/types.js';
import { runtimeStats, type Device } from '../../src/runtime/session.js';
import type { Tensor } from '../../src/tensor.js';
import { ratio, round, summarize } from './stats.js';

/** Times every predict, keyed by batch size (1 = inversion, 2 = guided denoising). */
class TimedDenoiser implements Denoiser {
  readonly latentChannels: number;
  readonly numFrames: number;
  readonly calls: { batch: number; ms: number; runMs: number }[] = [];

  constructor(private readonly inner: Denoiser) {
    this.latentChannels = inner.latentChannels;
    this.numFrames = inner.numFrames;
  }

  async predict(input: DenoiserInput): Promise<Tensor> {
    const r0 = runtimeStats.runMs;
    const t0 = performance.now();
    const out = await this.inner.predict(input);
    this.calls.push({ batch: input.sample.dims[0], ms: performance.now() - t0, runMs: runtimeStats.runMs - r0 });
    return out;
  }
}

export interface EditInputs {
  readonly video: string;
  readonly editedFrame: string;
  readonly output: string;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly threads: number;
  readonly device: Device;
  /** The request's sampler (default: the request's default, auto → euler for these models). */
  readonly scheduler?: 'euler' | 'animatelcm';
}

const PIPELINE_STAGES = ['encode', 'invert', 'denoise', 'decode'] as const;

export async function benchEdit(svd: SvdModel, inputs: EditInputs, log: (m: string) => void) {
  const denoiser = new TimedDenoiser(svd.models.denoiser);
  const model: SvdModel = { ...svd, models: { ...svd.models, denoiser }, release: () => Promise.resolve() };
  // ORT time per stage: the run time between two progress events belongs to the later event's stage (events fire
  // after the work they report).
  const ortByStage: Record<string, number> = {};
  let lastRunMs = runtimeStats.runMs;
  let lastStage = '';
  const onProgress = (p: EditProgress) => {
    ortByStage[p.stage] = (ortByStage[p.stage] ?? 0) + runtimeStats.runMs - lastRunMs;
    lastRunMs = runtimeStats.runMs;
    if (p.stage !== lastStage) log(`edit: ${p.stage}…`);
    lastStage = p.stage;
  };
  const runs0 = runtimeStats.runs;
  const run0 = runtimeStats.runMs;
  const result: EditResult = await editVideo({
    video: inputs.video, editedFrame: inputs.editedFrame, output: inputs.output, force: true,
    size: { width: inputs.width, height: inputs.height }, blockFrames: inputs.frames,
    threads: inputs.threads, device: inputs.device, scheduler: inputs.scheduler,
  }, { model, onProgress });
  const ortMs = runtimeStats.runMs - run0;
  const t = result.timings;
  const pipelineMs = PIPELINE_STAGES.reduce((s, k) => s + t[k], 0);
  const perStage = Object.fromEntries(PIPELINE_STAGES.map((k) => [k, {
    wall_ms: round(t[k]), ort_run_ms: round(ortByStage[k] ?? 0), outside_share: ratio(1 - (ortByStage[k] ?? 0) / t[k]),
  }]));
  const byBatch = (b: number) => denoiser.calls.filter((c) => c.batch === b);
  const callOverhead = denoiser.calls.map((c) => c.ms - c.runMs);
  return {
    stages_ms: {
      read: round(t.read), encode: round(t.encode), invert: round(t.invert), denoise: round(t.denoise),
      decode: round(t.decode), write: round(t.write), total: round(t.total),
    },
    unet_calls: {
      inversion_batch1_ms: summarize(byBatch(1).map((c) => c.ms)),
      guided_batch2_ms: summarize(byBatch(2).map((c) => c.ms)),
      /** Per call, wall minus ORT run: feed building in session.run, conversions, checks. */
      outside_ort_per_call_ms: summarize(callOverhead),
    },
    outside_ort: {
      share: ratio(1 - ortMs / pipelineMs),
      pipeline_ms: round(pipelineMs),
      ort_run_ms: round(ortMs),
      ort_runs: runtimeStats.runs - runs0,
      goal: 0.03,
      per_stage: perStage,
    },
    output: { frames: result.frames, width: result.width, height: result.height, warnings: result.warnings },
    /** What the edit reported: its sampler, steps × strength, and UNet calls (a batch-2 call counts 2). */
    edit: { scheduler: result.scheduler, steps: result.steps, strength: result.strength, unet_calls: result.unetCalls },
  };
}
