/**
 * The standard Hugging Face cache layout, shared with Python's huggingface_hub so either reuses the other's files:
 *
 *   <cache>/models--<org>--<name>/blobs/<etag>              file contents (etag: sha256 for LFS files, git oid otherwise)
 *   <cache>/models--<org>--<name>/blobs/<etag>.incomplete   a download in progress (resumed by both)
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<path>  relative symlinks to the blobs
 *   <cache>/models--<org>--<name>/refs/<revision>           the commit a branch or tag pointed to
 *   <cache>/models--<org>--<name>/.no_exist/<commit>/<path>  empty markers: <path> does not exist at that commit
 *
 * <cache> is HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
 * else ~/.cache/huggingface/hub (the library's getHFHubCachePath follows the same order as Python).
 */
import { copyFile, lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getHFHubCachePath } from '@huggingface/hub';
import { assertInside } from './validate.js';

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

export function defaultCacheDir(): string {
  return getHFHubCachePath();
}

/** HF_HUB_OFFLINE takes the same truthy spellings as in Python. */
export function offlineFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['1', 'on', 'yes', 'true'].includes((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase());
}

export class RepoCache {
  /** models--<org>--<name> */
  readonly folder: string;

  /** `symlinks: false` copies the blob into the snapshot, what `link` falls back to where symlinks fail. */
  constructor(readonly cacheDir: string, readonly repoId: string, private readonly opts: { symlinks?: boolean } = {}) {
    this.folder = path.join(cacheDir, `models--${repoId.split('/').join('--')}`);
  }

  snapshot(commit: string): string {
    return path.join(this.folder, 'snapshots', commit);
  }

  /** Where a repo file appears in a snapshot. */
  pointer(commit: string, repoPath: string): string {
    return assertInside(this.snapshot(commit), path.join(this.snapshot(commit), ...repoPath.split('/')));
  }

  blob(etag: string): string {
    return assertInside(path.join(this.folder, 'blobs'), path.join(this.folder, 'blobs', etag));
  }

  /** The commit `revision` resolved to last time (a commit hash is its own answer), or null if never fetched. */
  async commitOf(revision: string): Promise<string | null> {
    if (COMMIT_HASH.test(revision)) return revision;
    const text = await readFile(path.join(this.folder, 'refs', ...revision.split('/')), 'utf8').catch(() => null);
    const commit = text?.trim() ?? null;
    return commit && COMMIT_HASH.test(commit) ? commit : null;
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const file = path.join(this.folder, 'refs', ...revision.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, commit); // no newline, as Python writes it
  }

  /** Repo paths marked as not existing at `commit` (Python writes these markers too). */
  async noExist(commit: string): Promise<Set<string>> {
    const root = path.join(this.folder, '.no_exist', commit);
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return new Set(entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/')));
  }

  async markNoExist(commit: string, repoPaths: readonly string[]): Promise<void> {
    for (const p of repoPaths) {
      const marker = path.join(this.folder, '.no_exist', commit, ...p.split('/'));
      await mkdir(path.dirname(marker), { recursive: true });
      await writeFile(marker, '');
    }
  }

  /**
   * Points the snapshot entry at the blob with a relative symlink, or a copy where symlinks are not allowed. The
   * copy is written beside the entry and renamed over it only once its size matches the blob's: a copy cut short
   * (disk full, a crash) never stands in the snapshot as the model file.
   */
  async link(commit: string, repoPath: string, etag: string): Promise<string> {
    const pointer = this.pointer(commit, repoPath);
    const blob = this.blob(etag);
    await mkdir(path.dirname(pointer), { recursive: true });
    if (await lstat(pointer).catch(() => null)) await rm(pointer);
    if (this.opts.symlinks !== false) {
      try {
        await symlink(path.relative(path.dirname(pointer), blob), pointer);
        return pointer;
      } catch { /* a filesystem without symlinks: copy */ }
    }
    const partial = `${pointer}.${process.pid}.copying`;
    try {
      await copyFile(blob, partial);
      const [want, got] = await Promise.all([stat(blob), stat(partial)]);
      if (got.size !== want.size) throw new Error(`copy of ${blob} has ${got.size} bytes, not ${want.size}`);
      await rename(partial, pointer);
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
    return pointer;
  }
}

export async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}
