/**
 * `fetchSnapshot`: one Hub repo snapshot in the standard Hugging Face cache, holding the files a plan asks for and no
 * others. The hub knows how to fetch, cache and resume files; which files a model needs is the caller's business (its
 * `plan` callback), so the hub depends on no model format and any layout can be fetched the same way.
 *
 * Cache first: when the snapshot for the revision (refs/<revision> → commit) already holds every file the plan needs,
 * it is used with no network request at all, whoever downloaded it (this code or Python). The plan sees the snapshot
 * with `fallback: false` online, so a preference it cannot meet locally triggers a download, unless `.no_exist`
 * markers (written when a download had to fall back) say the Hub has none. A branch that moved on the Hub is therefore
 * not re-checked; pass a commit hash as `revision` to pin one, or delete refs/<branch> to re-resolve. When the Hub
 * cannot be reached, a cached snapshot is used even with fallbacks.
 */
import { mkdir, readdir, readFile, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { downloadBlob } from './blob.js';
import { defaultCacheDir, isFile, offlineFromEnv, RepoCache } from './cache.js';
import { HubClient, type RemoteFile } from './client.js';
import { diskFull, HubError } from './errors.js';
import { checkHubUrl, checkRevision, isRepoId } from './validate.js';

export interface DownloadProgress {
  /** The repo path being downloaded (or the last one finished). */
  file: string;
  /** Bytes present of all the required files together: monotone, ends at totalBytes. */
  bytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
}

/** A repo's file list plus a way to read its small files: a local snapshot folder or the Hub's listing. */
export interface RepoListing {
  /** How messages name the repo: a folder path, or `org/name@revision`. */
  readonly where: string;
  /** Every file present, as repo-relative paths with forward slashes. */
  readonly paths: ReadonlySet<string>;
  /** Files known not to exist in the repo itself (a cache's `.no_exist` markers), though absent from `paths`. */
  readonly absent?: ReadonlySet<string>;
  /** A file's text; on the Hub this downloads the file into the snapshot (plans read small config files only). */
  readText(repoPath: string): Promise<string>;
  /**
   * The Hub's listing only: a file's size and bytes [start, end) of it (a Range request), so a plan can check a large
   * file (e.g. a safetensors header) before it is downloaded.
   */
  readonly remote?: {
    size(repoPath: string): number;
    readRange(repoPath: string, start: number, end: number): Promise<Uint8Array>;
  };
}

/** The caller's answer to "which files of this repo?". */
export interface FilePlan {
  /** Every repo path to have in the snapshot: what a download fetches, and nothing else. */
  readonly requiredFiles: readonly string[];
  /** Preferred files looked for and absent: recorded as `.no_exist` markers so the cache check accepts the fallback. */
  readonly notFound: readonly string[];
  /** Fallbacks taken, worth showing the user (passed to onNotice). */
  readonly notices: readonly string[];
}

export interface PlanContext {
  /**
   * false: only a check of the cached snapshot while the Hub is reachable; the plan should fall back from a preferred
   * file only where `listing.absent` says the Hub lacks it, so a missing preferred file leads to a download.
   * true: the Hub's own listing, or a cached snapshot used because the Hub cannot be reached: fall back freely.
   */
  readonly fallback: boolean;
}

/**
 * Picks the files to fetch from a listing; throws when the listing cannot serve (a cached snapshot that throws is
 * simply not complete; a Hub listing that throws fails the fetch with that error).
 */
export type PlanFiles = (listing: RepoListing, context: PlanContext) => Promise<FilePlan>;

/** Where and how to fetch: everything but the plan. */
export interface SnapshotOptions {
  /** Branch, tag or commit (default main). */
  revision?: string;
  /** Hub access token (default: env HF_TOKEN). Needed for gated repos. */
  token?: string;
  /** Default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** The plan's fallbacks (FilePlan.notices), and a cached snapshot used because the Hub could not be reached. */
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

export interface FetchSnapshotOptions extends SnapshotOptions {
  plan: PlanFiles;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function timeoutFrom(o: SnapshotOptions): number {
  if (o.timeoutMs !== undefined) return o.timeoutMs;
  const env = process.env.VIDEOSHOP_HUB_TIMEOUT;
  if (env === undefined || env === '') return DEFAULT_TIMEOUT_MS;
  const seconds = Number(env);
  if (!(seconds > 0 && seconds <= 86_400)) {
    throw new HubError('bad-endpoint', `VIDEOSHOP_HUB_TIMEOUT=${JSON.stringify(env)} must be a number of seconds between 0 and 86400`);
  }
  return seconds * 1000;
}

const PROGRESS_INTERVAL_MS = 200;

/** The snapshot folder of `repoId` at `options.revision`, holding every file `options.plan` requires. */
export async function fetchSnapshot(repoId: string, options: FetchSnapshotOptions): Promise<string> {
  // The id names a cache folder: refuse anything that is not org/name before it becomes a path.
  if (!isRepoId(repoId)) throw new HubError('not-found', `${repoId} is not a Hub repo id (org/name)`);
  const revision = checkRevision(options.revision ?? 'main');
  const cache = new RepoCache(options.cacheDir ?? defaultCacheDir(), repoId);
  const offline = options.offline ?? offlineFromEnv();

  // Cache first. Online, a cached fallback counts only where the Hub is known to lack the preferred files.
  const commit = await cache.commitOf(revision);
  const cached = commit ? await completeSnapshot(cache, commit, options.plan, offline) : null;
  if (cached) {
    cached.notices.forEach((n) => options.onNotice?.(n));
    return cached.folder;
  }
  if (offline) {
    throw new HubError(
      'offline-missing',
      `${repoId}@${revision} is not${commit ? ' completely' : ''} in the Hugging Face cache (${cache.cacheDir}) and HF_HUB_OFFLINE is set: run once online to download it, or point HF_HUB_CACHE at the cache that has it`,
    );
  }
  try {
    return await download(cache, revision, options);
  } catch (err) {
    if (!(err instanceof HubError && (err.kind === 'network' || err.kind === 'stalled') && commit)) throw err;
    const usable = await completeSnapshot(cache, commit, options.plan, true);
    if (!usable) throw err;
    options.onNotice?.(`${err.summary}; using the cached ${repoId}@${revision} (commit ${commit.slice(0, 8)})`);
    usable.notices.forEach((n) => options.onNotice?.(n));
    return usable.folder;
  }
}

/** The snapshot folder and its plan's notices when it holds every required file, else null. */
async function completeSnapshot(
  cache: RepoCache,
  commit: string,
  plan: PlanFiles,
  fallback: boolean,
): Promise<{ folder: string; notices: readonly string[] } | null> {
  const folder = cache.snapshot(commit);
  try {
    const listing = { ...(await localListing(folder)), absent: await cache.noExist(commit) };
    const files = await plan(listing, { fallback });
    // The plan may not check presence itself: a snapshot missing a required file is not complete.
    if (!files.requiredFiles.every((p) => listing.paths.has(p))) return null;
    return { folder, notices: files.notices };
  } catch {
    return null;
  }
}

/**
 * Every file in a snapshot folder (symlinks to blobs followed; broken links, e.g. to a deleted blob, do not count).
 * A snapshot holds only repo files, so listing all of it is small and assumes no layout.
 */
export async function localListing(folder: string): Promise<RepoListing> {
  const root = path.resolve(folder);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const paths = new Set<string>();
  for (const e of entries) {
    const full = path.join(e.parentPath, e.name);
    if (e.isFile() || (e.isSymbolicLink() && (await stat(full).catch(() => null))?.isFile())) {
      paths.add(path.relative(root, full).split(path.sep).join('/'));
    }
  }
  return { where: root, paths, readText: (p) => readFile(path.join(root, ...p.split('/')), 'utf8') };
}

async function download(cache: RepoCache, revision: string, o: FetchSnapshotOptions): Promise<string> {
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
  const cached = await completeSnapshot(cache, commit, o.plan, false);
  if (cached) return cached.folder;

  const remote = await client.listFiles(commit);
  const where = `${cache.repoId}@${revision}`;
  const remoteFile = (p: string): RemoteFile => {
    const file = remote.get(p);
    if (!file) throw new HubError('file-not-found', `${where} has no file ${p}`);
    return file;
  };
  const fetchFile = (file: RemoteFile, onBytes?: (n: number) => void): Promise<string> =>
    fetchIntoCache(client, cache, commit, file, o, onBytes);
  const listing: RepoListing = {
    where,
    paths: new Set(remote.keys()),
    readText: async (p) => readFile(await fetchFile(remoteFile(p)), 'utf8'),
    remote: {
      size: (p) => remoteFile(p).size,
      readRange: (p, start, end) => client.readRange(remoteFile(p), commit, start, end),
    },
  };
  const plan = await o.plan(listing, { fallback: true });
  plan.notices.forEach((n) => o.onNotice?.(n));
  await cache.markNoExist(commit, plan.notFound);

  const files = [...new Set(plan.requiredFiles)].map(remoteFile);
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
  o: SnapshotOptions,
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
function throttledProgress(onProgress: SnapshotOptions['onProgress'], totalBytes: number, filesTotal: number) {
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
