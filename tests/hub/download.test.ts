/**
 * resolveModel against a mock Hub on 127.0.0.1 (tests/hub/mock-hub.ts); no other host is ever contacted: every
 * online call names the mock's hubUrl, and HF_* variables are cleared so nothing reaches the user's own cache.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveModel, type DownloadProgress } from '../../src/models/resolve.js';
import { HubError } from '../../src/hub/errors.js';
import { openModelRepository } from '../../src/models/repository.js';
import { fakeBytes, isLfs, TINY_FP16_FILES, tinySvdRepo } from './fixtures.js';
import { gitOid, sha256, startMockHub, type MockHub } from './mock-hub.js';

const COMMIT = 'c0ffee0000000000000000000000000000000001';
const GATED_COMMIT = 'c0ffee0000000000000000000000000000000002';
const BIG_COMMIT = 'c0ffee0000000000000000000000000000000003';
const UNET_FP16 = 'unet/diffusion_pytorch_model.fp16.safetensors';
const BIG = 300_000;

const tiny = tinySvdRepo();
const big = tinySvdRepo(BIG);
let hub: MockHub;
let scratch: string;

before(async () => {
  for (const k of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE']) delete process.env[k];
  scratch = await mkdtemp(path.join(tmpdir(), 'videoshop-hub-'));
  process.env.HF_HOME = path.join(scratch, 'hf-home'); // a default cache, if any code path used one, stays in here
  hub = await startMockHub([
    { id: 'acme/tiny-svd', commit: COMMIT, files: tiny, lfs: isLfs },
    { id: 'stabilityai/gated-svd', commit: GATED_COMMIT, files: tiny, lfs: isLfs, gatedToken: 'hf_accepted' },
    { id: 'acme/big-unet', commit: BIG_COMMIT, files: big, lfs: isLfs },
    { id: 'acme/huge', commit: BIG_COMMIT, files: tiny, lfs: isLfs, claimedSizes: { [UNET_FP16]: 1e15 } },
  ]);
});

after(async () => {
  await hub.close();
  await rm(scratch, { recursive: true, force: true });
});

let cacheCount = 0;
async function freshCache(): Promise<string> {
  const dir = path.join(scratch, `cache-${cacheCount++}`);
  await mkdir(dir);
  return dir;
}

function etagOf(files: Record<string, string | Uint8Array>, p: string): string {
  const content = typeof files[p] === 'string' ? new TextEncoder().encode(files[p] as string) : (files[p] as Uint8Array);
  return isLfs(p) ? sha256(content) : gitOid(content);
}

function bytesOf(files: Record<string, string | Uint8Array>, p: string): Buffer {
  return Buffer.from(typeof files[p] === 'string' ? new TextEncoder().encode(files[p] as string) : (files[p] as Uint8Array));
}

/** Every file under `dir`, relative, with forward slashes. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

async function rejectsHub(promise: Promise<unknown>, kind: HubError['kind'], pattern: RegExp): Promise<string> {
  let message = '';
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof HubError, `expected HubError, got ${err.name}: ${err.message}`);
    assert.equal(err.kind, kind, err.message);
    message = err.message;
    return true;
  });
  assert.match(message, pattern);
  assert.ok(!message.includes('\n'), `one line: ${message}`);
  return message;
}

function checkProgress(events: DownloadProgress[], totalBytes: number, filesTotal: number): void {
  assert.ok(events.length >= 2);
  for (const [i, e] of events.entries()) {
    assert.equal(e.totalBytes, totalBytes);
    assert.equal(e.filesTotal, filesTotal);
    assert.ok(e.bytes >= 0 && e.bytes <= totalBytes);
    if (i > 0) {
      assert.ok(e.bytes >= events[i - 1].bytes, `bytes monotone at event ${i}: ${events[i - 1].bytes} → ${e.bytes}`);
      assert.ok(e.filesDone >= events[i - 1].filesDone);
    }
  }
  const last = events.at(-1) as DownloadProgress;
  assert.equal(last.bytes, totalBytes);
  assert.equal(last.filesDone, filesTotal);
}

test('downloads exactly the required files into the standard HF cache layout; then cache only, online or offline', async () => {
  const cacheDir = await freshCache();
  const events: DownloadProgress[] = [];
  const notices: string[] = [];
  const start = hub.requests.length;
  const folder = await resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url, variant: 'fp16', onProgress: (e) => events.push(e), onNotice: (n) => notices.push(n) });

  const storage = path.join(cacheDir, 'models--acme--tiny-svd');
  assert.equal(folder, path.join(storage, 'snapshots', COMMIT));
  // Only the required files were fetched, each once; the big root checkpoints, .bin and float32 files never.
  const fetched = hub.downloads().slice(0);
  assert.deepEqual([...fetched].sort(), TINY_FP16_FILES);
  const calls = hub.requests.slice(start);
  assert.equal(calls.filter((r) => r.path.includes('/revision/')).length, 1);
  assert.equal(calls.filter((r) => r.path.includes('/tree/')).length, 1);
  assert.ok(calls.some((r) => r.path.startsWith('/cdn/') && r.status === 200), 'LFS files come through the CDN redirect');

  // Layout: refs/main → commit, blobs named by etag, snapshot entries are relative symlinks into blobs.
  assert.equal(await readFile(path.join(storage, 'refs', 'main'), 'utf8'), COMMIT);
  assert.deepEqual(readdirSync(path.join(storage, 'blobs')).sort(), TINY_FP16_FILES.map((p) => etagOf(tiny, p)).sort());
  assert.deepEqual(walk(folder).sort(), TINY_FP16_FILES);
  for (const p of TINY_FP16_FILES) {
    const entry = path.join(folder, p);
    assert.ok((await lstat(entry)).isSymbolicLink(), p);
    const target = readlinkSync(entry);
    assert.ok(!path.isAbsolute(target) && target.startsWith('..'), `relative link: ${target}`);
    assert.equal(realpathSync(entry), realpathSync(path.join(storage, 'blobs', etagOf(tiny, p))));
    assert.deepEqual(readFileSync(entry), bytesOf(tiny, p), p);
  }

  // The fallback is remembered as Python does, with .no_exist markers: the Hub has no fp16 image encoder.
  assert.deepEqual(walk(path.join(storage, '.no_exist', COMMIT)).sort(), [
    'image_encoder/model.fp16.safetensors',
    'image_encoder/model.safetensors.fp16.index.json',
    'image_encoder/model.safetensors.index.fp16.json',
  ]);

  const total = TINY_FP16_FILES.reduce((s, p) => s + bytesOf(tiny, p).length, 0);
  checkProgress(events, total, TINY_FP16_FILES.length);
  assert.deepEqual(notices, ['image_encoder has no fp16 weights; using model.safetensors instead (float32: twice the download and memory)']);
  const repo = await openModelRepository(folder, { variant: 'fp16' });
  assert.deepEqual(repo.requiredFiles.map((p) => path.relative(folder, p)).sort(), TINY_FP16_FILES);

  // Second call: served from the cache without a single request.
  const before2 = hub.requests.length;
  assert.equal(await resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url, variant: 'fp16' }), folder);
  assert.equal(hub.requests.length, before2);

  // HF_HUB_OFFLINE=1: from the cache; a repo not in it fails clearly.
  process.env.HF_HUB_OFFLINE = '1';
  try {
    assert.equal(await resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url, variant: 'fp16' }), folder);
    const offlineNotices: string[] = [];
    // Offline, a cached fallback is acceptable (float32 asked, only fp16 unet cached): used with a notice.
    assert.equal(await resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url, onNotice: (n) => offlineNotices.push(n) }), folder);
    assert.deepEqual(offlineNotices, [
      'unet has only fp16 weights; using diffusion_pytorch_model.fp16.safetensors',
      'vae has only fp16 weights; using diffusion_pytorch_model.safetensors.index.fp16.json',
    ]);
    await rejectsHub(
      resolveModel('acme/big-unet', { cacheDir, hubUrl: hub.url }),
      'offline-missing',
      new RegExp(`^acme/big-unet@main is not in the Hugging Face cache \\(${cacheDir}\\) and HF_HUB_OFFLINE is set: run once online`),
    );
    await rejectsHub(resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url, revision: 'v2' }), 'offline-missing', /tiny-svd@v2 is not in/);
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
  assert.equal(hub.requests.length, before2, 'offline calls make no request');

  // Another variant online: only the files it adds are downloaded.
  const before3 = hub.downloads().length;
  await resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url });
  assert.deepEqual(hub.downloads().slice(before3).sort(), ['unet/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.safetensors']);
});

/** Writes a cache entry the way Python's huggingface_hub does: blobs, relative snapshot links, refs/main. */
async function pythonStyleCache(cacheDir: string, repoId: string, files: Record<string, string | Uint8Array>): Promise<string> {
  const storage = path.join(cacheDir, `models--${repoId.replace('/', '--')}`);
  for (const p of Object.keys(files)) {
    const blob = path.join(storage, 'blobs', etagOf(files, p));
    await mkdir(path.dirname(blob), { recursive: true });
    await writeFile(blob, bytesOf(files, p));
    const pointer = path.join(storage, 'snapshots', COMMIT, p);
    await mkdir(path.dirname(pointer), { recursive: true });
    await symlink(path.relative(path.dirname(pointer), blob), pointer);
  }
  await mkdir(path.join(storage, 'refs'), { recursive: true });
  await writeFile(path.join(storage, 'refs', 'main'), COMMIT);
  return path.join(storage, 'snapshots', COMMIT);
}

test('a cache written by Python (same layout) is used without any network', async () => {
  const cacheDir = await freshCache();
  // A full fp16 set (the real SVD repos have fp16 files for all three networks).
  const fp16 = Object.fromEntries(TINY_FP16_FILES.map((p) => [p === 'image_encoder/model.safetensors' ? 'image_encoder/model.fp16.safetensors' : p, tiny[p]]));
  const snapshot = await pythonStyleCache(cacheDir, 'acme/tiny-svd', fp16);
  const n = hub.requests.length;
  assert.equal(await resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url, variant: 'fp16' }), snapshot);
  assert.equal(await resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url, variant: 'fp16', revision: COMMIT }), snapshot);
  assert.equal(hub.requests.length, n);

  // A cached fallback (no fp16 image encoder, no .no_exist marker) is re-checked online, but used when the Hub is down.
  const other = await freshCache();
  const partial = await pythonStyleCache(other, 'acme/tiny-svd', Object.fromEntries(TINY_FP16_FILES.map((p) => [p, tiny[p]])));
  const dead = await deadUrl();
  const notices: string[] = [];
  assert.equal(await resolveModel('acme/tiny-svd', { cacheDir: other, hubUrl: dead, variant: 'fp16', onNotice: (m) => notices.push(m) }), partial);
  assert.deepEqual(notices, [
    `cannot reach ${dead} (ECONNREFUSED); using the cached acme/tiny-svd@main (commit c0ffee00)`,
    'image_encoder has no fp16 weights; using model.safetensors instead (float32: twice the download and memory)',
  ]);
});

test('gated repo: clear message without a token (401) and with one lacking access (403); works with access', async () => {
  const cacheDir = await freshCache();
  const msg = await rejectsHub(resolveModel('stabilityai/gated-svd', { cacheDir, hubUrl: hub.url, variant: 'fp16' }), 'gated', /is gated/);
  assert.equal(
    msg,
    `stabilityai/gated-svd is gated: accept its license at ${hub.url}/stabilityai/gated-svd while logged in, then set HF_TOKEN=<a read token from https://huggingface.co/settings/tokens>`,
  );
  assert.ok(hub.requests.some((r) => r.path.includes('gated-svd/resolve/') && r.auth === null));

  process.env.HF_TOKEN = 'hf_not_accepted';
  try {
    await rejectsHub(
      resolveModel('stabilityai/gated-svd', { cacheDir, hubUrl: hub.url }),
      'gated',
      new RegExp(`^stabilityai/gated-svd is gated and HF_TOKEN has no access to it: accept its license at ${hub.url}/stabilityai/gated-svd while logged in as the token's owner`),
    );
    assert.ok(hub.requests.some((r) => r.auth === 'Bearer hf_not_accepted'), 'HF_TOKEN is sent');
  } finally {
    delete process.env.HF_TOKEN;
  }
  await rejectsHub(resolveModel('stabilityai/gated-svd', { cacheDir, hubUrl: hub.url, token: 'abc' }), 'unauthorized', /not a Hugging Face token \(those start with hf_\)/);

  const folder = await resolveModel('stabilityai/gated-svd', { cacheDir, hubUrl: hub.url, token: 'hf_accepted', variant: 'fp16' });
  assert.deepEqual(walk(folder).sort(), TINY_FP16_FILES);
});

test('unknown repo, unknown revision, no network, not an id', async () => {
  const cacheDir = await freshCache();
  await rejectsHub(
    resolveModel('acme/nope', { cacheDir, hubUrl: hub.url }),
    'not-found',
    new RegExp(`^acme/nope was not found on ${hub.url} \\(or it is private\\): check the id .*; for a private repo set HF_TOKEN=`),
  );
  await rejectsHub(resolveModel('acme/tiny-svd', { cacheDir, hubUrl: hub.url, revision: 'v9' }), 'revision-not-found', /^acme\/tiny-svd has no revision "v9": give a branch, tag or commit/);
  const dead = await deadUrl();
  await rejectsHub(
    resolveModel('acme/tiny-svd', { cacheDir, hubUrl: dead }),
    'network',
    new RegExp(`^cannot reach ${dead} \\(ECONNREFUSED\\): check the network connection, or set HF_HUB_OFFLINE=1`),
  );
  await rejectsHub(resolveModel('not a repo', { cacheDir, hubUrl: hub.url }), 'not-found', /neither a folder nor a Hub repo id/);
  const file = path.join(scratch, 'svd.safetensors');
  await writeFile(file, 'x');
  await rejectsHub(resolveModel(file, { cacheDir, hubUrl: hub.url }), 'not-found', /is a file: give a diffusers model folder .*single-file checkpoints are not supported$/);
  const local = await mkdtemp(path.join(scratch, 'local-'));
  const n = hub.requests.length;
  assert.equal(await resolveModel(local, { cacheDir, hubUrl: hub.url }), local);
  assert.equal(hub.requests.length, n);
  assert.ok(!existsSync(path.join(cacheDir, 'models--acme--nope', 'blobs')));
});

test('a connection cut mid-file is resumed with a Range request (same call)', async () => {
  const cacheDir = await freshCache();
  hub.cut(UNET_FP16, 100_000, 1);
  const events: DownloadProgress[] = [];
  const mark = hub.requests.length;
  const folder = await resolveModel('acme/big-unet', { cacheDir, hubUrl: hub.url, variant: 'fp16', retryDelayMs: 10, onProgress: (e) => events.push(e) });
  assert.deepEqual(readFileSync(path.join(folder, UNET_FP16)), bytesOf(big, UNET_FP16));
  const gets = hub.requests.slice(mark).filter((r) => r.path.endsWith(UNET_FP16) && r.range !== 'bytes=0-0');
  assert.equal(gets.length, 2);
  assert.equal(gets[0].range, null);
  const resumedAt = Number(/^bytes=(\d+)-299999$/.exec(gets[1].range ?? '')?.[1]);
  assert.ok(resumedAt > 0 && resumedAt <= 100_000, `resumed at ${gets[1].range}`);
  checkProgress(events, TINY_FP16_FILES.reduce((s, p) => s + bytesOf(big, p).length, 0), TINY_FP16_FILES.length);
  assert.ok(events.some((e) => e.file === UNET_FP16 && e.filesDone < e.filesTotal));
});

test('an interrupted download left as .incomplete is resumed by the next call; damaged data is caught', async () => {
  const cacheDir = await freshCache();
  hub.cut(UNET_FP16, 100_000, 100); // every attempt dies at byte 100 000: no progress after the first
  const msg = await rejectsHub(resolveModel('acme/big-unet', { cacheDir, hubUrl: hub.url, variant: 'fp16', retries: 2, retryDelayMs: 5 }), 'interrupted', /kept failing/);
  assert.match(msg, /^downloading acme\/big-unet\/unet\/diffusion_pytorch_model\.fp16\.safetensors kept failing \(.+\): check the network connection and run again; the download resumes where it stopped$/);
  hub.cut(UNET_FP16, 0, 0);
  const partial = path.join(cacheDir, 'models--acme--big-unet', 'blobs', `${etagOf(big, UNET_FP16)}.incomplete`);
  const have = (await stat(partial)).size;
  assert.ok(have > 0 && have <= 100_000, `partial ${have}`);

  const mark = hub.requests.length;
  const folder = await resolveModel('acme/big-unet', { cacheDir, hubUrl: hub.url, variant: 'fp16' });
  const gets = hub.requests.slice(mark).filter((r) => r.path.endsWith(UNET_FP16) && r.range !== 'bytes=0-0');
  assert.deepEqual(gets.map((r) => r.range), [`bytes=${have}-${BIG - 1}`]);
  assert.deepEqual(readFileSync(path.join(folder, UNET_FP16)), bytesOf(big, UNET_FP16));
  assert.ok(!existsSync(partial));

  // A full-size .incomplete with wrong bytes fails the sha256 check, is deleted, and the next run succeeds.
  const other = await freshCache();
  const bad = path.join(other, 'models--acme--big-unet', 'blobs', `${etagOf(big, UNET_FP16)}.incomplete`);
  await mkdir(path.dirname(bad), { recursive: true });
  await writeFile(bad, fakeBytes(BIG, 999));
  await rejectsHub(resolveModel('acme/big-unet', { cacheDir: other, hubUrl: hub.url, variant: 'fp16' }), 'corrupt', /unet\/diffusion_pytorch_model\.fp16\.safetensors arrived damaged \(sha256 .*\); the partial file was deleted: run again$/);
  assert.ok(!existsSync(bad));
  await resolveModel('acme/big-unet', { cacheDir: other, hubUrl: hub.url, variant: 'fp16' });
});

test('a server that ignores Range still resumes correctly', async () => {
  const cacheDir = await freshCache();
  hub.cut(UNET_FP16, 120_000, 1);
  hub.ignoreRange = true;
  const mark = hub.requests.length;
  try {
    const folder = await resolveModel('acme/big-unet', { cacheDir, hubUrl: hub.url, variant: 'fp16', retryDelayMs: 5 });
    assert.deepEqual(readFileSync(path.join(folder, UNET_FP16)), bytesOf(big, UNET_FP16));
    const resumed = hub.requests.slice(mark).filter((r) => r.path.endsWith(UNET_FP16) && /^bytes=[1-9]\d*-/.test(r.range ?? ''));
    assert.equal(resumed.length, 1, 'one resuming request, answered with the whole file');
    const gets = hub.requests.slice(mark).filter((r) => r.path.endsWith(UNET_FP16) && r.range !== 'bytes=0-0');
    assert.equal(gets.length, 2, 'the answer was used, not appended whole and then thrown away');
  } finally {
    hub.ignoreRange = false;
  }
});

test('disk full: checked before downloading, and a full disk mid-write gives one clear line', async () => {
  const cacheDir = await freshCache();
  const mark = hub.downloads().length;
  await rejectsHub(
    resolveModel('acme/huge', { cacheDir, hubUrl: hub.url, variant: 'fp16' }),
    'disk-full',
    new RegExp(`^disk full: the Hugging Face cache ${cacheDir} has no room for the download: it needs 1000000\\.0 GB more, .* GB free; free some space or set HF_HUB_CACHE`),
  );
  assert.ok(!hub.downloads().slice(mark).includes(UNET_FP16));

  if (!existsSync('/dev/full')) return;
  const full = await freshCache();
  const partial = path.join(full, 'models--acme--big-unet', 'blobs', `${etagOf(big, UNET_FP16)}.incomplete`);
  await mkdir(path.dirname(partial), { recursive: true });
  await symlink('/dev/full', partial); // every write into it fails with ENOSPC
  await rejectsHub(resolveModel('acme/big-unet', { cacheDir: full, hubUrl: hub.url, variant: 'fp16', retryDelayMs: 5 }), 'disk-full', /^disk full: the Hugging Face cache .* has no room; free some space/);
});

/** A loopback URL nobody listens on. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
