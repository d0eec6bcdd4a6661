/**
 * `resolveModel`: a local diffusers folder, or a Hub repo id downloaded into the standard Hugging Face cache, fetching
 * only the files the loader reads (models/repository.ts decides which).
 *
 * Cache first: when the snapshot for the revision (refs/<revision> → commit) already holds every file needed, it is
 * used with no network request at all, whoever downloaded it (this code or Python). "Every file" means the preferred
 * variant's, unless `.no_exist` markers (written when a download had to fall back) say the Hub has none. A branch
 * that moved on the Hub is therefore not re-checked; pass a commit hash as `revision` to pin one, or delete
 * refs/<branch> to re-resolve. When the Hub cannot be reached, a cached snapshot is used even with fallbacks.
 */
import { mkdir, readFile, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { localRepoFiles, planRepository, type RepoFileSource, type WeightVariant } from '../models/repository.js';
import { downloadBlob } from './blob.js';
import { defaultCacheDir, isFile, offlineFromEnv, RepoCache } from './cache.js';
import { HubClient, type RemoteFile } from './client.js';
import { diskFull, HubError } from './errors.js';
import { checkHubUrl, checkRevision } from './validate.js';
import { TOY_MODEL, toyModelFolder } from '../models/toy.js';

export interface DownloadProgress {
  /** The repo path being downloaded (or the last one finished). */
  file: string;
  /** Bytes present of all the required files together: monotone, ends at totalBytes. */
  bytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
}

export interface ResolveOptions {
  /** Branch, tag or commit (default main). */
  revision?: string;
  /** Hub access token (default: env HF_TOKEN). Needed for gated repos such as the SVD ones. */
  token?: string;
  /** Default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Weight variant to fetch (default none: the float32 files); falls back to the other one with a notice. */
  variant?: WeightVariant | null;
  onProgress?: (p: DownloadProgress) => void;
  /** Fallbacks taken (e.g. a component without fp16 weights). */
  onNotice?: (message: string) => void;
  /** Default: env HF_ENDPOINT, else https://huggingface.co. */
  hubUrl?: string;
  /** Use the cache only (default: env HF_HUB_OFFLINE). */
  offline?: boolean;
  /** Consecutive failed attempts at a file, without progress, before giving up (default 5: ~15 s of back-off). */
  retries?: number;
  retryDelayMs?: number;
  /** A request or transfer that sends nothing for this long is retried, then fails (default: env VIDEOSHOP_HUB_TIMEOUT seconds, else 30 s). */
  timeoutMs?: number;
  /** Aborts the download at once (Ctrl-C); the partial file is kept and resumed next time. */
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function timeoutFrom(o: ResolveOptions): number {
  if (o.timeoutMs !== undefined) return o.timeoutMs;
  const env = process.env.VIDEOSHOP_HUB_TIMEOUT;
  if (env === undefined || env === '') return DEFAULT_TIMEOUT_MS;
  const seconds = Number(env);
  if (!(seconds > 0 && seconds <= 86_400)) {
    throw new HubError('bad-endpoint', `VIDEOSHOP_HUB_TIMEOUT=${JSON.stringify(env)} must be a number of seconds between 0 and 86400`);
  }
  return seconds * 1000;
}

const HUB_REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const PROGRESS_INTERVAL_MS = 200;

/** A local folder as is, else a Hub repo id → the local folder (a cache snapshot) in diffusers layout. */
export async function resolveModel(idOrPath: string, options: ResolveOptions = {}): Promise<string> {
  const local = await stat(idOrPath).catch(() => null);
  if (local?.isDirectory()) return path.resolve(idOrPath);
  if (!local && idOrPath === TOY_MODEL) return toyModelFolder();
  if (local) {
    throw new HubError('not-found', `${idOrPath} is a file: give a diffusers model folder (with model_index.json) or a Hub id like stabilityai/stable-video-diffusion-img2vid; single-file checkpoints are not supported`);
  }
  if (!HUB_REPO_ID.test(idOrPath) || idOrPath.includes('..')) {
    throw new HubError('not-found', `${idOrPath} is neither a folder nor a Hub repo id (org/name, e.g. stabilityai/stable-video-diffusion-img2vid)`);
  }
  const revision = checkRevision(options.revision ?? 'main');
  const cache = new RepoCache(options.cacheDir ?? defaultCacheDir(), idOrPath);
  const variant = options.variant ?? null;
  const offline = options.offline ?? offlineFromEnv();

  // Cache first. Online, a cached fallback counts only where the Hub is known to lack the preferred files.
  const commit = await cache.commitOf(revision);
  const cached = commit ? await completeSnapshot(cache, commit, variant, offline) : null;
  if (cached) {
    cached.notices.forEach((n) => options.onNotice?.(n));
    return cached.folder;
  }
  if (offline) {
    throw new HubError(
      'offline-missing',
      `${idOrPath}@${revision} is not${commit ? ' completely' : ''} in the Hugging Face cache (${cache.cacheDir}) and HF_HUB_OFFLINE is set: run once online to download it, or point HF_HUB_CACHE at the cache that has it`,
    );
  }
  try {
    return await download(cache, revision, variant, options);
  } catch (err) {
    if (!(err instanceof HubError && (err.kind === 'network' || err.kind === 'stalled') && commit)) throw err;
    const usable = await completeSnapshot(cache, commit, variant, true);
    if (!usable) throw err;
    options.onNotice?.(`${err.summary}; using the cached ${idOrPath}@${revision} (commit ${commit.slice(0, 8)})`);
    usable.notices.forEach((n) => options.onNotice?.(n));
    return usable.folder;
  }
}

/** The snapshot folder and its notices when it holds every required file, else null. */
async function completeSnapshot(
  cache: RepoCache,
  commit: string,
  variant: WeightVariant | null,
  fallback: boolean,
): Promise<{ folder: string; notices: readonly string[] } | null> {
  const folder = cache.snapshot(commit);
  try {
    const source = { ...(await localRepoFiles(folder)), absent: await cache.noExist(commit) };
    const plan = await planRepository(source, { variant, fallback });
    return { folder, notices: plan.notices };
  } catch {
    return null;
  }
}

async function download(cache: RepoCache, revision: string, variant: WeightVariant | null, o: ResolveOptions): Promise<string> {
  const token = o.token ?? process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN ?? undefined;
  const hubUrl = checkHubUrl(o.hubUrl ?? (process.env.HF_ENDPOINT || 'https://huggingface.co'));
  if (token && !token.startsWith('hf_')) {
    throw new HubError('unauthorized', 'HF_TOKEN is not a Hugging Face token (those start with hf_): create a read token at https://huggingface.co/settings/tokens');
  }
  const client = new HubClient({
    repoId: cache.repoId, revision, hubUrl, token: token || undefined, cacheDir: cache.cacheDir, timeoutMs: timeoutFrom(o), signal: o.signal,
  });
  const commit = await client.resolveCommit();
  try {
    await cache.writeRef(revision, commit);
  } catch (err) {
    throw client.explain(err);
  }
  const cached = await completeSnapshot(cache, commit, variant, false);
  if (cached) return cached.folder;

  const remote = await client.listFiles(commit);
  const fetchFile = (file: RemoteFile, onBytes?: (n: number) => void): Promise<string> =>
    fetchIntoCache(client, cache, commit, file, o, onBytes);
  const source: RepoFileSource = {
    where: `${cache.repoId}@${revision}`,
    paths: new Set(remote.keys()),
    readText: async (p) => readFile(await fetchFile(remote.get(p) as RemoteFile), 'utf8'),
  };
  const plan = await planRepository(source, { variant, fallback: true });
  plan.notices.forEach((n) => o.onNotice?.(n));
  await cache.markNoExist(commit, plan.notFound);

  const files = plan.requiredFiles.map((p) => remote.get(p) as RemoteFile);
  const present = await Promise.all(files.map((f) => isFile(cache.pointer(commit, f.path))));
  const totalBytes = files.reduce((s, f) => s + f.size, 0);
  let doneBytes = files.reduce((s, f, i) => s + (present[i] ? f.size : 0), 0);
  let filesDone = present.filter(Boolean).length;
  await checkDiskSpace(cache, totalBytes - doneBytes);

  const progress = throttledProgress(o.onProgress, totalBytes, files.length);
  progress.emit(files[0]?.path ?? '', doneBytes, filesDone, true);
  for (const [i, file] of files.entries()) {
    if (present[i]) continue;
    await fetchFile(file, (n) => progress.emit(file.path, doneBytes + n, filesDone, false));
    doneBytes += file.size;
    filesDone += 1;
    progress.emit(file.path, doneBytes, filesDone, true);
  }
  return cache.snapshot(commit);
}

/** One repo file into the cache (blob + snapshot link); returns the snapshot path. */
async function fetchIntoCache(
  client: HubClient,
  cache: RepoCache,
  commit: string,
  file: RemoteFile,
  o: ResolveOptions,
  onBytes?: (n: number) => void,
): Promise<string> {
  const pointer = cache.pointer(commit, file.path);
  if (await isFile(pointer)) return pointer;
  const blob = cache.blob(file.etag);
  try {
    if (!(await isFile(blob))) {
      await mkdir(path.dirname(blob), { recursive: true });
      const open = await client.opener(file, commit);
      await downloadBlob({
        blob,
        size: file.size,
        checksum: file.checksum,
        label: `${cache.repoId}/${file.path}`,
        open,
        classify: (err) => client.classify(err, file.path),
        onBytes,
        retries: o.retries,
        retryDelayMs: o.retryDelayMs,
        signal: o.signal,
      });
    }
    return await cache.link(commit, file.path, file.etag);
  } catch (err) {
    if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : err;
    throw client.explain(err, file.path);
  }
}

async function checkDiskSpace(cache: RepoCache, needed: number): Promise<void> {
  if (needed <= 0) return;
  try {
    await mkdir(cache.folder, { recursive: true });
  } catch (err) {
    throw new HubError('not-writable', `cannot create ${cache.folder} (${(err as Error).message}): set HF_HUB_CACHE (or HF_HOME) to a writable folder`);
  }
  const fs = await statfs(cache.folder).catch(() => null);
  if (!fs) return;
  const free = fs.bavail * fs.bsize;
  if (free < needed) throw diskFull(cache.cacheDir, ` for the download: it needs ${gb(needed)} more, ${gb(free)} free`);
}

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(bytes < 1e8 ? 3 : 1)} GB`;
}

/** Emits at file boundaries, and at most every PROGRESS_INTERVAL_MS in between; bytes never go backwards. */
function throttledProgress(onProgress: ResolveOptions['onProgress'], totalBytes: number, filesTotal: number) {
  let last = 0;
  let lastBytes = 0;
  return {
    emit(file: string, bytes: number, filesDone: number, force: boolean): void {
      if (!onProgress) return;
      const now = Date.now();
      if (!force && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      lastBytes = Math.max(lastBytes, Math.min(bytes, totalBytes));
      onProgress({ file, bytes: lastBytes, totalBytes, filesDone, filesTotal });
    },
  };
}
