/**
 * The diffusers folder layout of a Stable Video Diffusion pipeline, and which files of it Videoshop reads.
 *
 *   model_index.json                        names each component's library and class
 *   unet/  vae/                             config.json + diffusion_pytorch_model[.fp16].safetensors
 *   image_encoder/                          config.json + model[.fp16].safetensors (transformers naming)
 *   scheduler/scheduler_config.json, feature_extractor/preprocessor_config.json
 *
 * Weights may instead be sharded: `<stem>.safetensors.index[.fp16].json` (diffusers' legacy variant name
 * `<stem>.safetensors.fp16.index.json` too) lists the shard files. Hub repos also hold files we never read
 * (root single-file checkpoints like svd.safetensors, .bin/.ckpt weights, the other variant), so the same
 * selection drives both the loader and the downloader: `requiredFiles` is exactly what `openModelRepository` reads.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RepoListing } from '../hub/download.js';
import { asObject } from '../util/config.js';
import { VideoshopError } from '../util/errors.js';

/** Weight variants Hub repos publish next to the float32 files (`*.fp16.safetensors`). */
export type WeightVariant = 'fp16';
export const WEIGHT_VARIANTS: readonly WeightVariant[] = ['fp16'];

export const NETWORK_COMPONENTS = ['unet', 'vae', 'image_encoder'] as const;
export const CONFIG_COMPONENTS = ['scheduler', 'feature_extractor'] as const;
export type NetworkComponentName = (typeof NETWORK_COMPONENTS)[number];
export type ConfigComponentName = (typeof CONFIG_COMPONENTS)[number];
export type ComponentName = NetworkComponentName | ConfigComponentName;

export const MODEL_INDEX = 'model_index.json';
const PIPELINE_CLASS = 'StableVideoDiffusionPipeline';

interface ComponentSpec {
  library: 'diffusers' | 'transformers';
  className: string;
  config: string;
  /** File stem of the weights (diffusers and transformers name them differently); absent: config only. */
  weightStem?: string;
}

const SPECS: Record<ComponentName, ComponentSpec> = {
  unet: { library: 'diffusers', className: 'UNetSpatioTemporalConditionModel', config: 'config.json', weightStem: 'diffusion_pytorch_model' },
  vae: { library: 'diffusers', className: 'AutoencoderKLTemporalDecoder', config: 'config.json', weightStem: 'diffusion_pytorch_model' },
  image_encoder: { library: 'transformers', className: 'CLIPVisionModelWithProjection', config: 'config.json', weightStem: 'model' },
  scheduler: { library: 'diffusers', className: 'EulerDiscreteScheduler', config: 'scheduler_config.json' },
  feature_extractor: { library: 'transformers', className: 'CLIPImageProcessor', config: 'preprocessor_config.json' },
};

/** One-line, actionable errors about a model folder or repo (the CLI prints the message alone). */
export class ModelRepositoryError extends VideoshopError {
  override name = 'ModelRepositoryError';
  constructor(message: string) {
    super('bad_model', message);
  }
}

export interface WeightSelection {
  /** The variant of the chosen files; null: the plain (float32) files. */
  readonly variant: WeightVariant | null;
  /** The sharded checkpoint's index file, or null for a single file. */
  readonly index: string | null;
  /** The .safetensors files holding the weights: the single file, or every shard the index names (sorted). */
  readonly files: readonly string[];
}

export interface ConfigComponent {
  readonly name: ComponentName;
  readonly className: string;
  readonly folder: string;
  /** config.json / scheduler_config.json / preprocessor_config.json. */
  readonly config: string;
}

export interface NetworkComponent extends ConfigComponent {
  readonly name: NetworkComponentName;
  readonly weights: WeightSelection;
}

/** Paths are relative to the repo root (forward slashes) in a plan, absolute in a ModelRepository. */
export interface RepositoryPlan {
  readonly modelIndex: string;
  readonly unet: NetworkComponent;
  readonly vae: NetworkComponent;
  readonly image_encoder: NetworkComponent;
  readonly scheduler: ConfigComponent;
  readonly feature_extractor: ConfigComponent;
  /** Fallbacks taken (e.g. no fp16 file, float32 used instead): worth showing the user. */
  readonly notices: readonly string[];
  /** Preferred weight files looked for and absent, which made a fallback necessary. */
  readonly notFound: readonly string[];
  /** Every repo path the loader reads: what a download must fetch, and nothing else. */
  readonly requiredFiles: readonly string[];
}

export interface ModelRepository extends RepositoryPlan {
  /** The absolute folder every path above lies in. */
  readonly root: string;
}

/**
 * A repo's file list plus a way to read its small JSON files: a local folder or a Hub listing. The hub's type, so a
 * plan made here is what hub/download.ts's fetchSnapshot calls back (models/resolve.ts).
 */
export type RepoFileSource = RepoListing;

export interface PlanOptions {
  /** Preferred weight variant; default none (the float32 files). */
  variant?: WeightVariant | null;
  /**
   * Use the other variant when the preferred one is absent (with a notice); default true. When false, fall back only
   * where `source.absent` says the preferred files do not exist at all.
   */
  fallback?: boolean;
  /**
   * Which weight files to plan (default 'all'): 'except-unet' when `--unet` replaces the UNet's weights (its config is
   * still read), 'none' for the configs alone (what checking a `--unet` file against the model needs).
   */
  weights?: PlannedWeights;
}

export type PlannedWeights = 'all' | 'except-unet' | 'none';

/** A component whose weights are not planned: no files (loadSvd then reads them from elsewhere, or not at all). */
const NO_WEIGHTS: WeightSelection = { variant: null, index: null, files: [] };

/** The files a download of `source` must fetch for `variant` (see RepositoryPlan.requiredFiles). */
export async function requiredFiles(source: RepoFileSource, variant?: WeightVariant | null): Promise<readonly string[]> {
  return (await planRepository(source, { variant })).requiredFiles;
}

/**
 * Validates model_index.json and picks each component's config and weight files. Every picked file is checked to be
 * present in `source.paths`; anything missing throws one ModelRepositoryError line saying what to do.
 */
export async function planRepository(source: RepoFileSource, options: PlanOptions = {}): Promise<RepositoryPlan> {
  const variant = options.variant ?? null;
  const fallback = options.fallback ?? true;
  await readModelIndex(source);
  const notices: string[] = [];
  const notFound: string[] = [];
  const required = new Set<string>([MODEL_INDEX]);
  const configOnly = (name: ConfigComponentName): ConfigComponent => {
    const c = configOf(source, name);
    required.add(c.config);
    return c;
  };
  const planned = options.weights ?? 'all';
  const network = async (name: NetworkComponentName): Promise<NetworkComponent> => {
    const c = configOf(source, name);
    if (planned === 'none' || (planned === 'except-unet' && name === 'unet')) {
      required.add(c.config);
      return { ...c, name, weights: NO_WEIGHTS };
    }
    const weights = await selectWeights(source, name, variant, fallback, notices, notFound);
    for (const p of [c.config, ...(weights.index ? [weights.index] : []), ...weights.files]) required.add(p);
    return { ...c, name, weights };
  };
  const unet = await network('unet');
  const vae = await network('vae');
  const image_encoder = await network('image_encoder');
  const scheduler = configOnly('scheduler');
  const feature_extractor = configOnly('feature_extractor');
  return { modelIndex: MODEL_INDEX, unet, vae, image_encoder, scheduler, feature_extractor, notices, notFound, requiredFiles: [...required] };
}

/** Opens a local diffusers folder (e.g. a Hub snapshot) and returns absolute paths of every file the loader needs. */
export async function openModelRepository(folder: string, options: PlanOptions = {}): Promise<ModelRepository> {
  const root = path.resolve(folder);
  const plan = await planRepository(await localRepoFiles(root), options);
  const abs = (p: string): string => path.join(root, ...p.split('/'));
  const config = (c: ConfigComponent): ConfigComponent => ({ ...c, folder: abs(c.folder), config: abs(c.config) });
  const network = (c: NetworkComponent): NetworkComponent => ({
    ...c,
    folder: abs(c.folder),
    config: abs(c.config),
    weights: { variant: c.weights.variant, index: c.weights.index && abs(c.weights.index), files: c.weights.files.map(abs) },
  });
  return {
    root,
    modelIndex: abs(plan.modelIndex),
    unet: network(plan.unet),
    vae: network(plan.vae),
    image_encoder: network(plan.image_encoder),
    scheduler: config(plan.scheduler),
    feature_extractor: config(plan.feature_extractor),
    notices: plan.notices,
    notFound: plan.notFound.map(abs),
    requiredFiles: plan.requiredFiles.map(abs),
  };
}

/** The files of a local folder that a pipeline could use: the root and each component folder, one level deep. */
export async function localRepoFiles(folder: string): Promise<RepoFileSource> {
  const root = path.resolve(folder);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) {
    throw new ModelRepositoryError(`${root} is not a folder: give a diffusers model folder or a Hub id like stabilityai/stable-video-diffusion-img2vid`);
  }
  const paths = new Set<string>();
  for (const dir of ['', ...NETWORK_COMPONENTS, ...CONFIG_COMPONENTS]) {
    for (const name of await listFiles(path.join(root, dir))) paths.add(dir ? `${dir}/${name}` : name);
  }
  return { where: root, paths, readText: (p) => readFile(path.join(root, ...p.split('/')), 'utf8') };
}

/** Plain files in `dir` (symlinks followed, so HF cache snapshots count; broken links do not). */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const e of entries) {
    if (e.isFile()) files.push(e.name);
    else if (e.isSymbolicLink() && (await stat(path.join(dir, e.name)).catch(() => null))?.isFile()) files.push(e.name);
  }
  return files;
}

async function readJson(source: RepoFileSource, repoPath: string): Promise<unknown> {
  const text = await source.readText(repoPath);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ModelRepositoryError(`${source.where}/${repoPath} is not valid JSON (${(e as Error).message}): the file is damaged; download the model again`);
  }
}

/** model_index.json must describe an SVD pipeline whose components have the classes Videoshop implements. */
async function readModelIndex(source: RepoFileSource): Promise<void> {
  if (!source.paths.has(MODEL_INDEX)) {
    throw new ModelRepositoryError(
      `${source.where} has no ${MODEL_INDEX}: it is not a diffusers pipeline; use a Hub id like stabilityai/stable-video-diffusion-img2vid or a folder saved by diffusers`,
    );
  }
  const where = `${source.where}/${MODEL_INDEX}`;
  const index = asObject(await readJson(source, MODEL_INDEX), where);
  if (index._class_name !== PIPELINE_CLASS) {
    throw new ModelRepositoryError(`${where}: the pipeline is ${JSON.stringify(index._class_name)}, not ${PIPELINE_CLASS}: Videoshop needs a Stable Video Diffusion (img2vid) model`);
  }
  for (const name of [...NETWORK_COMPONENTS, ...CONFIG_COMPONENTS]) {
    const spec = SPECS[name];
    const entry = index[name];
    const ok = Array.isArray(entry) && entry.length === 2 && entry[0] === spec.library && entry[1] === spec.className;
    if (!ok) {
      throw new ModelRepositoryError(
        `${where}: "${name}" is ${JSON.stringify(entry ?? null)}, expected ["${spec.library}", "${spec.className}"]: Videoshop only runs the stock SVD components`,
      );
    }
  }
}

function configOf(source: RepoFileSource, name: ComponentName): ConfigComponent {
  const spec = SPECS[name];
  const config = `${name}/${spec.config}`;
  if (!source.paths.has(config)) {
    throw new ModelRepositoryError(`${source.where}/${name} has no ${spec.config}: the download is incomplete; download the model again (files already present are kept)`);
  }
  return { name, className: spec.className, folder: name, config };
}

/** Candidate file names of one variant, in preference order: the single file, then a sharded index. */
function candidates(stem: string, variant: WeightVariant | null): { file: string; sharded: boolean }[] {
  if (!variant) return [{ file: `${stem}.safetensors`, sharded: false }, { file: `${stem}.safetensors.index.json`, sharded: true }];
  return [
    { file: `${stem}.${variant}.safetensors`, sharded: false },
    { file: `${stem}.safetensors.index.${variant}.json`, sharded: true },
    { file: `${stem}.safetensors.${variant}.index.json`, sharded: true }, // diffusers' deprecated variant-index name
  ];
}

async function selectWeights(
  source: RepoFileSource,
  name: NetworkComponentName,
  variant: WeightVariant | null,
  fallback: boolean,
  notices: string[],
  notFound: string[],
): Promise<WeightSelection> {
  const stem = SPECS[name].weightStem as string;
  const preferred = candidates(stem, variant).map((c) => `${name}/${c.file}`);
  const order: (WeightVariant | null)[] = [variant];
  if (fallback || preferred.every((p) => source.absent?.has(p))) order.push(...(variant ? [null] : WEIGHT_VARIANTS));
  for (const v of order) {
    for (const c of candidates(stem, v)) {
      const repoPath = `${name}/${c.file}`;
      if (!source.paths.has(repoPath)) continue;
      if (v !== variant) {
        notices.push(fallbackNotice(name, variant, v, c.file));
        notFound.push(...preferred);
      }
      if (!c.sharded) return { variant: v, index: null, files: [repoPath] };
      return { variant: v, index: repoPath, files: await readShardList(source, name, repoPath) };
    }
  }
  throw new ModelRepositoryError(missingWeightsMessage(source, name, stem, variant));
}

function fallbackNotice(name: string, wanted: WeightVariant | null, used: WeightVariant | null, file: string): string {
  return wanted
    ? `${name} has no ${wanted} weights; using ${file} instead (float32: twice the download and memory)`
    : `${name} has only ${used} weights; using ${file}`;
}

function missingWeightsMessage(source: RepoFileSource, name: string, stem: string, variant: WeightVariant | null): string {
  const wanted = `${stem}${variant ? `.${variant}` : ''}.safetensors`;
  const others = [...source.paths].filter((p) => p.startsWith(`${name}/`) && /\.(bin|ckpt|pt|pth|safetensors)$/.test(p));
  const found = others.length ? `it only has ${others.map((p) => p.slice(name.length + 1)).join(', ')}` : 'it has no weight files';
  const hint = others.some((p) => !p.endsWith('.safetensors'))
    ? '; Videoshop reads .safetensors only (.bin/.ckpt are PyTorch pickles): download the safetensors weights from the Hub'
    : '; download the model again (files already present are kept)';
  return `${source.where}/${name} has no ${wanted} (nor a sharded ${stem}.safetensors.index.json): ${found}${hint}`;
}

/** A shard index ({ "weight_map": { tensor: shard file } }) → the shard paths, each checked to be present. */
async function readShardList(source: RepoFileSource, name: string, indexPath: string): Promise<string[]> {
  const where = `${source.where}/${indexPath}`;
  const map = asObject(asObject(await readJson(source, indexPath), where).weight_map, `${where} "weight_map"`);
  const shards = new Set<string>();
  for (const [tensor, file] of Object.entries(map)) {
    if (typeof file !== 'string' || file === '' || /[\\/]/.test(file) || file === '..') {
      throw new ModelRepositoryError(`${where}: weight "${tensor}" maps to ${JSON.stringify(file)}, not a file name in ${name}/: the index is damaged`);
    }
    shards.add(`${name}/${file}`);
  }
  if (shards.size === 0) throw new ModelRepositoryError(`${where}: "weight_map" is empty: the index is damaged; download the model again`);
  const missing = [...shards].filter((p) => !source.paths.has(p));
  if (missing.length > 0) {
    throw new ModelRepositoryError(
      `${source.where}/${name} lacks shard ${missing[0].slice(name.length + 1)}${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''} named by ${indexPath.slice(name.length + 1)}: download the model again (files already present are kept)`,
    );
  }
  return [...shards].sort();
}
