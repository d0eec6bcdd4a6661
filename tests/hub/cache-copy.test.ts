/**
 * Where symlinks fail (some Windows setups, FAT/exFAT drives), a snapshot entry is a copy of its blob. The copy is
 * atomic: a finished, size-checked copy or nothing, never a short file standing in for the model.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { RepoCache } from '../../src/hub/cache.js';

const COMMIT = 'a'.repeat(40);
const ETAG = 'b'.repeat(64);

test('without symlinks a snapshot entry is a verified copy of the blob, replacing an older entry; a failed copy leaves nothing', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'vs-cache-copy-'));
  try {
    const cache = new RepoCache(dir, 'acme/model', { symlinks: false });
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251));
    await mkdir(path.dirname(cache.blob(ETAG)), { recursive: true });
    await writeFile(cache.blob(ETAG), bytes);
    const stale = cache.pointer(COMMIT, 'unet/model.safetensors');
    await mkdir(path.dirname(stale), { recursive: true });
    await writeFile(stale, 'short');

    const pointer = await cache.link(COMMIT, 'unet/model.safetensors', ETAG);
    assert.equal(pointer, stale);
    assert.ok((await lstat(pointer)).isFile(), 'a regular file, not a symlink');
    assert.deepEqual(await readFile(pointer), bytes);
    assert.deepEqual(await readdir(path.dirname(pointer)), ['model.safetensors'], 'no temporary copy left');

    // The blob is gone (a cache cleaner ran): the copy fails, and neither the entry nor a partial copy remains.
    await rm(cache.blob(ETAG));
    await assert.rejects(cache.link(COMMIT, 'unet/model.safetensors', ETAG), /ENOENT/);
    assert.deepEqual(await readdir(path.dirname(pointer)), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
