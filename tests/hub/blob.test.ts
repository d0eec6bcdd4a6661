/** downloadBlob's back-off between attempts: an abort (Ctrl-C) there stops it at once, with the caller's own error. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { downloadBlob } from '../../src/hub/blob.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A download whose every attempt fails with a retryable error, then backs off for `retryDelayMs`. */
async function failingDownload(signal: AbortSignal, retryDelayMs: number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'videoshop-blob-'));
  dirs.push(dir);
  let attempts = 0;
  const blob = path.join(dir, 'blob');
  const done = downloadBlob({
    blob, size: 10, checksum: null, label: 'test/file', retries: 5, retryDelayMs, signal,
    open: () => {
      attempts += 1;
      return Promise.reject(new TypeError('fetch failed'));
    },
    classify: () => 'retry',
  });
  return { done, attempts: () => attempts, blob };
}

test('an abort during the back-off rejects at once with the signal\'s reason', async () => {
  const controller = new AbortController();
  const { done, attempts, blob } = await failingDownload(controller.signal, 60_000);
  const reason = new Error('stopped by the user');
  const t0 = performance.now();
  setTimeout(() => controller.abort(reason), 100);
  await assert.rejects(done, (err) => err === reason);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `stopped ${ms.toFixed(0)} ms after the start (abort at 100 ms, back-off 60 s)`);
  assert.equal(attempts(), 1);
  assert.equal(existsSync(blob), false);
});

test('a signal aborted before the back-off rejects with its reason, not a generic AbortError', async () => {
  const controller = new AbortController();
  const reason = new Error('already cancelled');
  controller.abort(reason);
  const { done } = await failingDownload(controller.signal, 60_000);
  await assert.rejects(done, (err) => err === reason);
});

test('without an abort, the back-off waits and the download is retried', async () => {
  const { done, attempts } = await failingDownload(new AbortController().signal, 1);
  await assert.rejects(done, /kept failing \(fetch failed\)/);
  assert.equal(attempts(), 6);
});
