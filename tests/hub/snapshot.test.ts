/**
 * fetchSnapshot with a caller's plan for a layout that is not SVD's: the hub fetches what the plan names and keeps its
 * cache rules (cache first, .no_exist markers, offline) without knowing any model format. Mock Hub on 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fetchSnapshot, localListing, type PlanFiles } from '../../src/hub/download.js';
import { HubError } from '../../src/hub/errors.js';
import { startMockHub, type MockHub } from './mock-hub.js';

const COMMIT = 'abc0000000000000000000000000000000000001';
// A made-up layout: a manifest naming the parts to fetch; `big.bin` is never wanted, `deep/` tests nesting.
const FILES = {
  'manifest.json': JSON.stringify({ parts: ['deep/er/part-a.bin', 'part-b.bin'] }),
  'deep/er/part-a.bin': 'A'.repeat(1000),
  'part-b.bin': 'B'.repeat(500),
  'big.bin': 'X'.repeat(5000),
};

let hub: MockHub;
let scratch: string;

before(async () => {
  for (const k of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE']) delete process.env[k];
  scratch = await mkdtemp(path.join(tmpdir(), 'videoshop-snapshot-'));
  process.env.HF_HOME = path.join(scratch, 'hf-home');
  hub = await startMockHub([{ id: 'acme/parts', commit: COMMIT, files: FILES, lfs: (p) => p.endsWith('.bin') }]);
});

after(async () => {
  await hub.close();
  await rm(scratch, { recursive: true, force: true });
});

/** The manifest and the parts it lists; prefers `part-c.bin` (absent on the Hub) unless allowed to fall back. */
function manifestPlan(calls: boolean[]): PlanFiles {
  return async (listing, { fallback }) => {
    calls.push(fallback);
    const { parts } = JSON.parse(await listing.readText('manifest.json')) as { parts: string[] };
    const missing = [...parts, 'manifest.json'].filter((p) => !listing.paths.has(p));
    if (missing.length) throw new Error(`${listing.where} lacks ${missing.join(', ')}`);
    const preferred = 'part-c.bin';
    if (listing.paths.has(preferred)) return { requiredFiles: ['manifest.json', ...parts, preferred], notFound: [], notices: [] };
    if (!fallback && !listing.absent?.has(preferred)) throw new Error(`no ${preferred}`);
    return { requiredFiles: ['manifest.json', ...parts], notFound: [preferred], notices: [`no ${preferred}; using the parts`] };
  };
}

test('fetches exactly the planned files of any layout; then from the cache with no request, online or offline', async () => {
  const cacheDir = path.join(scratch, 'cache');
  const calls: boolean[] = [];
  const notices: string[] = [];
  const folder = await fetchSnapshot('acme/parts', { cacheDir, hubUrl: hub.url, plan: manifestPlan(calls), onNotice: (n) => notices.push(n) });
  const storage = path.join(cacheDir, 'models--acme--parts');
  assert.equal(folder, path.join(storage, 'snapshots', COMMIT));
  assert.deepEqual(hub.downloads().sort(), ['deep/er/part-a.bin', 'manifest.json', 'part-b.bin']);
  // Once the commit is known its snapshot is checked first (empty here), then the Hub listing planned with fallback.
  assert.deepEqual(calls, [false, true]);
  assert.deepEqual(notices, ['no part-c.bin; using the parts']);
  assert.ok(existsSync(path.join(storage, '.no_exist', COMMIT, 'part-c.bin')), 'notFound → .no_exist marker');

  const listing = await localListing(folder);
  assert.deepEqual([...listing.paths].sort(), ['deep/er/part-a.bin', 'manifest.json', 'part-b.bin']);

  // Cached: the snapshot is planned without fallback, accepted thanks to the marker, and nothing is requested.
  const requests = hub.requests.length;
  calls.length = 0;
  notices.length = 0;
  assert.equal(await fetchSnapshot('acme/parts', { cacheDir, hubUrl: hub.url, plan: manifestPlan(calls), onNotice: (n) => notices.push(n) }), folder);
  assert.deepEqual(calls, [false]);
  assert.deepEqual(notices, ['no part-c.bin; using the parts']);
  assert.equal(await fetchSnapshot('acme/parts', { cacheDir, hubUrl: hub.url, offline: true, plan: manifestPlan(calls) }), folder);
  assert.equal(hub.requests.length, requests);

  // A plan the snapshot cannot serve (a file never downloaded) is not served from the cache offline.
  const wantsBig: PlanFiles = async () => ({ requiredFiles: ['big.bin'], notFound: [], notices: [] });
  await assert.rejects(fetchSnapshot('acme/parts', { cacheDir, offline: true, plan: wantsBig }), (e: Error) => e instanceof HubError && e.kind === 'offline-missing');
  // Online it is fetched, alone.
  const before = hub.downloads().length;
  assert.equal(await fetchSnapshot('acme/parts', { cacheDir, hubUrl: hub.url, plan: wantsBig }), folder);
  assert.deepEqual(hub.downloads().slice(before), ['big.bin']);
});

test('a plan naming a file the Hub lacks, or a bad repo id, fails with one HubError line', async () => {
  const cacheDir = path.join(scratch, 'cache-2');
  const ghost: PlanFiles = async () => ({ requiredFiles: ['manifest.json', 'ghost.bin'], notFound: [], notices: [] });
  await assert.rejects(fetchSnapshot('acme/parts', { cacheDir, hubUrl: hub.url, plan: ghost }), (e: Error) =>
    e instanceof HubError && e.kind === 'file-not-found' && e.message === 'acme/parts@main has no file ghost.bin');
  const reads: PlanFiles = async (listing) => {
    await listing.readText('ghost.json');
    return { requiredFiles: [], notFound: [], notices: [] };
  };
  await assert.rejects(fetchSnapshot('acme/parts', { cacheDir, hubUrl: hub.url, plan: reads }), (e: Error) => e instanceof HubError && e.kind === 'file-not-found');
  for (const id of ['../etc', 'acme/..', 'no-slash']) {
    await assert.rejects(fetchSnapshot(id, { cacheDir, hubUrl: hub.url, plan: ghost }), (e: Error) => e instanceof HubError && e.kind === 'not-found' && e.message === `${id} is not a Hub repo id (org/name)`);
  }
});
