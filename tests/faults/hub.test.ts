/**
 * A hostile or broken Hub (HF_ENDPOINT can point anywhere), on loopback: whatever it sends, nothing is written
 * outside the cache, nothing hangs, and every failure is one HubError line with a code.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveModel } from '../../src/models/resolve.js';
import { HubError } from '../../src/hub/errors.js';
import { isLfs, tinySvdRepo } from '../hub/fixtures.js';
import { startMockHub, type MockHub } from '../hub/mock-hub.js';

const UNET_FP16 = 'unet/diffusion_pytorch_model.fp16.safetensors';
let hub: MockHub;
let scratch: string;

before(async () => {
  for (const k of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'VIDEOSHOP_HUB_TIMEOUT']) delete process.env[k];
  scratch = await mkdtemp(path.join(tmpdir(), 'videoshop-faults-hub-'));
  process.env.HF_HOME = path.join(scratch, 'hf-home');
  const files = tinySvdRepo(50_000);
  const commit = (n: number) => `c0ffee00000000000000000000000000000000${String(n).padStart(2, '0')}`;
  hub = await startMockHub([
    { id: 'evil/hash', commit: commit(1), files, lfs: isLfs, tamper: (e) => (e.path === UNET_FP16 ? { ...e, lfs: { ...(e.lfs as object), oid: '../../../../escaped' } } : e) },
    { id: 'evil/abs-path', commit: commit(2), files, lfs: isLfs, tamper: (e) => (e.path === 'unet/config.json' ? { ...e, path: '/tmp/evil.json' } : e) },
    { id: 'evil/dotdot', commit: commit(3), files, lfs: isLfs, tamper: (e) => (e.path === 'unet/config.json' ? { ...e, path: 'unet/../../../evil.json' } : e) },
    { id: 'evil/size', commit: commit(4), files, lfs: isLfs, tamper: (e) => (e.path === UNET_FP16 ? { ...e, lfs: { ...(e.lfs as object), size: -5 } } : e) },
    { id: 'slow/hang', commit: commit(5), files, lfs: isLfs },
  ]);
  hub.hang(UNET_FP16, 1000);
});

after(async () => {
  await hub?.close();
  await rm(scratch, { recursive: true, force: true });
});

let n = 0;
async function freshCache(): Promise<string> {
  const dir = path.join(scratch, `c${n++}`, 'cache');
  await mkdir(dir, { recursive: true });
  return dir;
}

async function rejectsHub(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HubError, `a HubError, got ${String(err)}`);
    assert.equal(err.kind, code, err.message);
    assert.equal(err.code, `hub_${code.replace(/-/g, '_')}`, 'the stable code of every surface');
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

/** Nothing appeared next to the cache (a write outside it would land there or higher). */
function onlyCacheIn(cacheDir: string): void {
  assert.deepEqual(readdirSync(path.dirname(cacheDir)), ['cache']);
  assert.deepEqual(readdirSync(scratch).filter((f) => !/^c\d+$|^hf-home$/.test(f)), []);
}

test('a file hash with ../ in it is refused before it becomes a path', async () => {
  const cacheDir = await freshCache();
  await rejectsHub(resolveModel('evil/hash', { cacheDir, hubUrl: hub.url, variant: 'fp16' }), 'server', /sent an invalid file hash "\.\.\/\.\.\/\.\.\/\.\.\/escaped".*check HF_ENDPOINT$/);
  onlyCacheIn(cacheDir);
});

test('absolute and ../ file names, and a negative size, are refused', async () => {
  for (const id of ['evil/abs-path', 'evil/dotdot']) {
    const cacheDir = await freshCache();
    await rejectsHub(resolveModel(id, { cacheDir, hubUrl: hub.url, variant: 'fp16' }), 'server', /sent an invalid file name/);
    onlyCacheIn(cacheDir);
  }
  const cacheDir = await freshCache();
  await rejectsHub(resolveModel('evil/size', { cacheDir, hubUrl: hub.url, variant: 'fp16' }), 'server', /sent an invalid file size -5/);
});

test('a stalled transfer times out, is retried, then fails with one line', async () => {
  const cacheDir = await freshCache();
  const t0 = performance.now();
  await rejectsHub(resolveModel('slow/hang', { cacheDir, hubUrl: hub.url, variant: 'fp16', timeoutMs: 300, retries: 1, retryDelayMs: 5 }),
    'interrupted', /kept failing \(stalled: no data for 0\.3 s\): check the network connection/);
  const ms = performance.now() - t0;
  assert.ok(ms < 5000, `gave up after ${ms.toFixed(0)} ms`);
});

test('aborting (Ctrl-C) stops a stalled download at once', async () => {
  const cacheDir = await freshCache();
  const controller = new AbortController();
  const t0 = performance.now();
  setTimeout(() => controller.abort(new Error('stopped by the user')), 300);
  await assert.rejects(resolveModel('slow/hang', { cacheDir, hubUrl: hub.url, variant: 'fp16', timeoutMs: 60_000, signal: controller.signal }), /stopped by the user/);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `stopped ${ms.toFixed(0)} ms after the start (abort at 300 ms)`);
});

test('an HTML answer and a malformed HF_ENDPOINT give one line', async () => {
  hub.html = true;
  try {
    await rejectsHub(resolveModel('slow/hang', { cacheDir: await freshCache(), hubUrl: hub.url }), 'server', /did not answer like a Hugging Face Hub \(not JSON: an HTML page\?\)/);
  } finally {
    hub.html = false;
  }
  for (const bad of ['not a url', 'ftp://127.0.0.1/', 'http://user:secret@127.0.0.1/']) {
    await rejectsHub(resolveModel('slow/hang', { cacheDir: await freshCache(), hubUrl: bad }), 'bad-endpoint', /^HF_ENDPOINT=.* (is not a URL|must be a plain http\(s\) address)/);
  }
  await rejectsHub(resolveModel('slow/hang', { cacheDir: await freshCache(), hubUrl: hub.url, revision: '../../x' }), 'revision-not-found', /is not a branch, tag or commit name/);
});
