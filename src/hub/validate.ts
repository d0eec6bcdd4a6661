/**
 * Everything a Hub server sends is data: file names, hashes and sizes are checked here before any of them becomes a
 * path or an allocation. A server (HF_ENDPOINT can point anywhere) that sends `../` in a hash or an absolute file name
 * is refused with one line instead of writing outside the cache.
 */
import path from 'node:path';
import { HubError } from './errors.js';

/** git's sha1 (40 hex) or an LFS sha256 (64 hex): the only blob names the cache holds. */
export const BLOB_HASH = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;
/** A size must be an exact byte count; a huge one is then refused by the free-space check before any download. */
export const MAX_FILE_BYTES = Number.MAX_SAFE_INTEGER;
const MAX_PATH_BYTES = 1024;

export function untrusted(hubUrl: string, what: string): HubError {
  return new HubError('server', `${hubUrl} sent an invalid ${what}: it is not a Hugging Face Hub or it is broken; check HF_ENDPOINT`);
}

/** A repo path: relative, forward slashes, no `.`/`..`/empty segments, no backslash or control characters. */
export function checkRepoPath(p: unknown, hubUrl: string): string {
  const ok = typeof p === 'string' && p.length > 0 && Buffer.byteLength(p) <= MAX_PATH_BYTES
    && !p.startsWith('/') && !p.includes('\\') && ![...p].some((ch) => ch.charCodeAt(0) < 0x20) && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
  if (!ok) throw untrusted(hubUrl, `file name ${JSON.stringify(p).slice(0, 80)}`);
  return p;
}

export function checkBlobHash(h: unknown, hubUrl: string): string {
  if (typeof h !== 'string' || !BLOB_HASH.test(h)) throw untrusted(hubUrl, `file hash ${JSON.stringify(h).slice(0, 80)}`);
  return h;
}

export function checkSize(n: unknown, hubUrl: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_FILE_BYTES) throw untrusted(hubUrl, `file size ${JSON.stringify(n)}`);
  return n;
}

/** `child` must lie inside `root` (defence in depth, after the checks above). */
export function assertInside(root: string, child: string): string {
  const rel = path.relative(root, child);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new HubError('server', `refusing to write ${child}: it is outside the cache folder ${root}`);
  }
  return child;
}

/** HF_ENDPOINT (or hubUrl) must be an http(s) URL without credentials, query or fragment. */
export function checkHubUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HubError('bad-endpoint', `HF_ENDPOINT=${JSON.stringify(raw)} is not a URL: set it to the Hub's address, e.g. https://huggingface.co, or unset it`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
    throw new HubError('bad-endpoint', `HF_ENDPOINT=${JSON.stringify(raw)} must be a plain http(s) address like https://huggingface.co`);
  }
  return raw.replace(/\/+$/, '');
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** `org/name` as the Hub spells repo ids, with no `..` (the id becomes a folder name in the cache). */
export function isRepoId(id: string): boolean {
  return REPO_ID.test(id) && !id.includes('..');
}

/** A branch, tag or commit: what can safely name a file under refs/. */
export function checkRevision(rev: string): string {
  if (!/^[\w.-]+(\/[\w.-]+)*$/.test(rev) || rev.split('/').some((s) => s === '.' || s === '..')) {
    throw new HubError('revision-not-found', `revision ${JSON.stringify(rev)} is not a branch, tag or commit name`);
  }
  return rev;
}
