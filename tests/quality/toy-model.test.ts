/**
 * The shipped toy model (`--model toy`, models/toy/): it resolves through resolveModel like any Hub id or folder,
 * passes the same repository validation, and loads with the same loader as the real SVD.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveModel } from '../../src/models/resolve.js';
import { openModelRepository } from '../../src/models/repository.js';
import { loadSvd } from '../../src/models/svd.js';
import { TOY_MODEL, toyModelFolder } from '../../src/models/toy.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

describe('toy model', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  test('"toy" resolves to the repository\'s models/toy, offline, without touching the Hub cache', async () => {
    const folder = await resolveModel(TOY_MODEL, { offline: true, cacheDir: '/nonexistent-cache' });
    assert.equal(folder, path.join(REPO, 'models', 'toy'));
    assert.equal(toyModelFolder(), folder);
  });

  test('a local folder named toy still wins (a name is a folder first)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'toy-cwd-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'toy'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(await resolveModel('toy'), path.join(dir, 'toy'));
    } finally {
      process.chdir(cwd);
    }
  });

  test('it is a complete SVD folder in diffusers layout and loads with the SVD loader', async () => {
    const repo = await openModelRepository(toyModelFolder());
    assert.deepEqual(repo.notices, []);
    const svd = await loadSvd(TOY_MODEL, { threads: 1 });
    try {
      assert.equal(svd.numFrames, 8);
      assert.equal(svd.nativeArea, 64 * 64);
      assert.equal(svd.sizeMultiple, 8);
      assert.equal(svd.models.vae.downscale, 4);
      assert.equal(svd.scheduler.predictionType, 'v_prediction');
    } finally {
      await svd.release();
    }
  });
});
