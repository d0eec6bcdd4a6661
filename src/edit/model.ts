/**
 * Loading a model once for many edits (the server's workers do): the same loader `editVideo` uses, with its download
 * reported as the edit's progress event and its failures as VideoshopErrors.
 */
import type { WeightVariant } from '../models/repository.js';
import { loadSvd, type SvdModel } from '../models/svd.js';
import type { Device } from '../runtime/session.js';
import { explainFailure } from './errors.js';
import { progressTracker, type EditProgress } from './progress.js';
import { DEFAULT_MODEL } from './schema.js';

/** A loaded model: pass it to `editVideo(request, { model })`. `release()` frees it. */
export type EditModel = SvdModel;

export interface LoadModelOptions {
  device?: Device;
  dtype?: 'float32' | 'float16';
  /** The weight files to use (default: fp16 for float16 compute, the plain files for float32). */
  variant?: WeightVariant | null;
  threads?: number;
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (p: EditProgress) => void;
  /** Fallbacks taken while resolving the files (e.g. no fp16 weights). */
  onNotice?: (message: string) => void;
  /** The request's `unet`: a .safetensors file (local, or org/name/file on the Hub) replacing the model's UNet weights. */
  unet?: string;
}

export async function loadModel(model: string = DEFAULT_MODEL, o: LoadModelOptions = {}): Promise<EditModel> {
  const track = progressTracker();
  try {
    return await loadSvd(model, {
      device: o.device, dtype: o.dtype, variant: o.variant, threads: o.threads, cacheDir: o.cacheDir, onNotice: o.onNotice, unet: o.unet,
      hub: {
        signal: o.signal,
        onProgress: (p) => o.onProgress?.(track({ stage: 'download', step: Math.round(p.bytes / 1e6), total: Math.round(p.totalBytes / 1e6), unit: 'MB' })),
      },
    });
  } catch (err) {
    throw explainFailure(err, o.signal);
  }
}
