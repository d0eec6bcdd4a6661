/**
 * `resolveModel`: what `--model` names → a local diffusers folder. A folder is used as is, `toy` is the shipped toy
 * model, anything else is a Hub repo id fetched into the standard Hugging Face cache by hub/ (fetchSnapshot), which
 * downloads only the files the loader reads: repository.ts's plan is the downloader's plan, so the two cannot drift.
 *
 * The cache rules (cache first, `.no_exist` markers, offline mode, a cached snapshot when the Hub is unreachable) are
 * hub/download.ts's; this module only decides the files, for the requested weight variant.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fetchSnapshot, type PlanFiles, type SnapshotOptions } from '../hub/download.js';
import { HubError } from '../hub/errors.js';
import { isRepoId } from '../hub/validate.js';
import { planRepository, type PlannedWeights, type WeightVariant } from './repository.js';
import { TOY_MODEL, toyModelFolder } from './toy.js';

export type { DownloadProgress } from '../hub/download.js';

export interface ResolveOptions extends SnapshotOptions {
  /**
   * Weight variant to fetch (default none: the float32 files); falls back to the other one with a notice. The Hub
   * token (`token`, default env HF_TOKEN) is needed for gated repos such as the SVD ones.
   */
  variant?: WeightVariant | null;
  /** Which weights to fetch (default all; see PlanOptions.weights). */
  weights?: PlannedWeights;
}

/** A local folder as is, else a Hub repo id → the local folder (a cache snapshot) in diffusers layout. */
export async function resolveModel(idOrPath: string, options: ResolveOptions = {}): Promise<string> {
  const local = await stat(idOrPath).catch(() => null);
  if (local?.isDirectory()) return path.resolve(idOrPath);
  if (!local && idOrPath === TOY_MODEL) return toyModelFolder();
  if (local) {
    throw new HubError('not-found', `${idOrPath} is a file: give a diffusers model folder (with model_index.json) or a Hub id like stabilityai/stable-video-diffusion-img2vid; single-file checkpoints are not supported`);
  }
  if (!isRepoId(idOrPath)) {
    throw new HubError('not-found', `${idOrPath} is neither a folder nor a Hub repo id (org/name, e.g. stabilityai/stable-video-diffusion-img2vid)`);
  }
  const { variant, weights, ...snapshot } = options;
  return fetchSnapshot(idOrPath, { ...snapshot, plan: svdPlan(variant ?? null, weights ?? 'all') });
}

/** The files an SVD pipeline in diffusers layout needs, preferring `variant`'s weights. */
function svdPlan(variant: WeightVariant | null, weights: PlannedWeights): PlanFiles {
  return (listing, { fallback }) => planRepository(listing, { variant, fallback, weights });
}
