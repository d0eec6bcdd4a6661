/**
 * `--unet <file|hub-id/file>`: the model's UNet weights replaced by one diffusers-keyed .safetensors file (a UNet-only
 * fine-tune; AnimateLCM-SVD-xt's distilled UNet, `wangfuyun/AnimateLCM-SVD-xt/AnimateLCM-SVD-xt.safetensors`).
 *
 * The file is checked against the model's unet/config.json from its header alone — every weight present, none extra
 * (as diffusers' strict load_state_dict), shapes and dtypes right — before anything large is downloaded: a Hub file's
 * header comes by two small Range requests, then the file is fetched into the Hugging Face cache with the same cache,
 * resume and offline rules as models (hub/download.ts). A local path that exists is a local file; anything else of
 * the form org/name/path is a Hub file (a bare org/name is refused, naming the repo's .safetensors files).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { fetchSnapshot, type PlanFiles, type RepoListing, type SnapshotOptions } from '../hub/download.js';
import { HubError } from '../hub/errors.js';
import { isRepoId } from '../hub/validate.js';
import { MAX_HEADER_BYTES, parseHeader, readHeader, SafetensorsError, type TensorInfo } from '../safetensors/read.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import type { UnetConfig } from './unet/config.js';
import { unetWeightShapes } from './unet/weights.js';

export type UnetSource =
  | { readonly kind: 'local'; readonly given: string; readonly file: string }
  | { readonly kind: 'hub'; readonly given: string; readonly repoId: string; readonly file: string };

/** The UNet file an SvdModel runs: what the user named (a path or org/name/file), and where it lies on disk. */
export interface UnetFile {
  /** As given: a local path, or the Hub's `org/name/file.safetensors` (what picks a scheduler by file name). */
  readonly source: string;
  /** The file's base name, e.g. AnimateLCM-SVD-xt.safetensors. */
  readonly name: string;
  /** The absolute path of the file (a Hub file: its Hugging Face cache snapshot entry). */
  readonly file: string;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

function unetError(given: string, text: string): VideoshopError {
  return new VideoshopError('bad_unet', msg`${option('unet', given)}: ${text}`, { field: 'unet', params: { value: given } });
}

/** What `--unet` names, decided without touching the network; a bad spelling fails here with one line. */
export function parseUnetSource(given: string): UnetSource {
  const local = statSync(given, { throwIfNoEntry: false });
  if (local?.isFile()) return { kind: 'local', given, file: path.resolve(given) };
  if (local?.isDirectory()) {
    throw unetError(given, 'is a folder: give the .safetensors file itself (in a diffusers model: unet/diffusion_pytorch_model.safetensors)');
  }
  const parts = given.split('/');
  const pathLike = path.isAbsolute(given) || /^(\.{1,2}|~)(\/|$)/.test(given) || given.includes('\\') || parts.length < 2
    || (parts.length === 2 && given.endsWith('.safetensors'));
  if (pathLike) throw unetError(given, 'no such file: give a diffusers-keyed .safetensors file, or a Hub file as org/name/file.safetensors');
  const repoId = parts.slice(0, 2).join('/');
  const file = parts.slice(2).join('/');
  if (!isRepoId(repoId) || parts.slice(2).some((s) => s === '' || s === '.' || s === '..')) {
    throw unetError(given, 'no such file, nor a Hub file (org/name/file.safetensors)');
  }
  if (file !== '' && !file.endsWith('.safetensors')) {
    throw unetError(given, 'Videoshop reads .safetensors files only (.bin, .ckpt and .pt are PyTorch pickles): pick the repo\'s .safetensors file');
  }
  return { kind: 'hub', given, repoId, file };
}

/** Hints at what a file that is not this model's UNet is, from its weight names. */
function foreignKind(names: readonly string[]): string {
  if (names.some((n) => n.startsWith('model.diffusion_model.'))) {
    return ' (its names are a Stability/ComfyUI single-file checkpoint\'s, "model.diffusion_model.…": use a file in diffusers keys, '
      + 'like a diffusers model\'s unet/diffusion_pytorch_model.safetensors)';
  }
  if (names.some((n) => /lora/i.test(n))) return ' (it is a LoRA, not a whole UNet)';
  if (names.some((n) => /^(down|up)_blocks\.\d+\.resnets\.\d+\.conv1\.weight$/.test(n))) {
    return ' (it is an image UNet, e.g. Stable Diffusion 1.5\'s: it has no temporal layers)';
  }
  if (names.some((n) => n.startsWith('encoder.') || n.startsWith('decoder.'))) return ' (it is a VAE)';
  return '';
}

/**
 * The file's weights against the model's UNet config: every weight of UNetSpatioTemporalConditionModel present, none
 * extra, each with the config's shape and a float dtype. Throws one bad_unet line naming the first difference.
 */
export function checkUnetTensors(given: string, tensors: readonly Pick<TensorInfo, 'name' | 'shape' | 'dtype'>[], config: UnetConfig): void {
  const expected = unetWeightShapes(config);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const wanted = new Set(expected.map((w) => w.name));
  const missing = expected.filter((w) => !byName.has(w.name));
  const names = tensors.map((t) => t.name);
  const kind = foreignKind(names);
  if (missing.length === expected.length || (missing.length > 0 && kind)) {
    throw unetError(given, `is not an SVD UNet (UNetSpatioTemporalConditionModel) in diffusers keys: it lacks ${missing.length} of the `
      + `${expected.length} weights of the model's UNet${kind}`);
  }
  if (missing.length > 0) {
    throw unetError(given, `lacks ${missing.length} of the ${expected.length} weights of the model's UNet (first: "${missing[0].name}"): `
      + 'it is a UNet of another architecture, or a damaged file');
  }
  const extra = names.filter((n) => !wanted.has(n));
  if (extra.length > 0) {
    throw unetError(given, `has ${extra.length} weights the model's UNet does not (first: "${extra[0]}"): it is a UNet of another architecture `
      + '(more layers or blocks than the model\'s unet/config.json); use one fine-tuned from this --model');
  }
  for (const { name, shape } of expected) {
    const t = byName.get(name)!;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw unetError(given, `weight "${name}" is [${t.shape.join(', ')}] where the model's UNet has [${shape.join(', ')}]: `
        + 'it is a UNet of another size; use one fine-tuned from this --model');
    }
    if (!FLOAT_DTYPES.has(t.dtype)) throw unetError(given, `weight "${name}" is ${t.dtype}: UNet weights must be F32, F16 or BF16`);
  }
}

/** A safetensors error about the file → the same reason, as a --unet line (the path is the user's own spelling). */
function damaged(given: string, err: unknown, where: string): never {
  if (!(err instanceof SafetensorsError)) throw err;
  const reason = err.message.split(`${where} `).join('').replace(/^is /, '');
  throw unetError(given, `is ${reason}: download it again`);
}

/** The header of a local file, checked. */
function checkLocalFile(given: string, file: string, config: UnetConfig): void {
  let tensors: TensorInfo[];
  try {
    tensors = readHeader(file).tensors;
  } catch (err) {
    damaged(given, err, file);
  }
  checkUnetTensors(given, tensors, config);
}

/** A Hub file's header, by Range requests (8 bytes of length, then the JSON), checked before the file is fetched. */
async function checkRemoteHeader(given: string, remote: NonNullable<RepoListing['remote']>, file: string, config: UnetConfig): Promise<void> {
  const size = remote.size(file);
  const where = given;
  try {
    if (size < 8) throw new SafetensorsError(`${where} is not a valid safetensors file: only ${size} bytes (truncated?)`);
    const length = Buffer.from(await remote.readRange(file, 0, 8)).readBigUInt64LE(0);
    if (length > BigInt(MAX_HEADER_BYTES) || 8 + Number(length) > size) {
      throw new SafetensorsError(`${where} is not a valid safetensors file: a header of ${length} bytes in a ${size}-byte file (truncated?)`);
    }
    checkUnetTensors(given, parseHeader(await remote.readRange(file, 8, 8 + Number(length)), size, where).tensors, config);
  } catch (err) {
    damaged(given, err, where);
  }
}

function safetensorsIn(listing: RepoListing): string {
  const files = [...listing.paths].filter((p) => p.endsWith('.safetensors')).sort();
  if (files.length === 0) return 'it has no .safetensors file';
  const shown = files.slice(0, 6).join(', ');
  return `its .safetensors files are ${shown}${files.length > 6 ? ` and ${files.length - 6} more` : ''}`;
}

/** Where and how to fetch a Hub file: the models' options (cache, token, offline, progress, signal). */
export type ResolveUnetOptions = SnapshotOptions;

/**
 * The `--unet` file checked against `config` and, for a Hub file, downloaded: its local path. Nothing large is read or
 * fetched before the header passed.
 */
export async function resolveUnetFile(source: UnetSource, config: UnetConfig, options: ResolveUnetOptions = {}): Promise<UnetFile> {
  const given = source.given;
  if (source.kind === 'local') {
    checkLocalFile(given, source.file, config);
    return { source: given, name: path.basename(source.file), file: source.file };
  }
  const { repoId, file } = source;
  const plan: PlanFiles = async (listing) => {
    if (file === '') {
      throw unetError(given, `names a Hub repo, not a file in it: ${safetensorsIn(listing)}; add one, e.g. --unet ${repoId}/<file>.safetensors`);
    }
    if (!listing.paths.has(file)) throw unetError(given, `${repoId} has no file ${file}: ${safetensorsIn(listing)}`);
    if (listing.remote) await checkRemoteHeader(given, listing.remote, file, config);
    return { requiredFiles: [file], notFound: [], notices: [] };
  };
  let folder: string;
  try {
    folder = await fetchSnapshot(repoId, { ...options, plan });
  } catch (err) {
    if (err instanceof HubError && err.kind === 'not-found') {
      throw unetError(given, `no such local file, and no Hub repo ${repoId} (or it is private: set HF_TOKEN)`);
    }
    if (err instanceof HubError && err.kind === 'offline-missing' && file === '') {
      throw unetError(given, `names a Hub repo, not a file in it: add the file, e.g. --unet ${repoId}/<file>.safetensors`);
    }
    throw err;
  }
  const local = path.join(folder, ...file.split('/'));
  checkLocalFile(given, local, config);
  return { source: given, name: path.basename(file), file: local };
}
