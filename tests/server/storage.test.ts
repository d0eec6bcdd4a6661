/**
 * The data folder's limits: finished jobs older than --keep-days go at start-up, the oldest finished jobs make room
 * for an upload under the quota, and an upload the quota cannot hold even then is refused (507). Jobs are put in
 * the table directly (no inference needed).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { JobStore } from '../../src/server/store.js';
import { createWorkspace, makeVideo, type Workspace } from '../edit/fixtures.js';
import { getJson, startTestServer } from './helpers.js';

let ws: Workspace;
let clip: string;

before(async () => {
  ws = createWorkspace('server-storage');
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 4 });
});

after(() => ws?.remove());

/** A finished job with a result file of `bytes`, finished `daysAgo` days ago. */
function finishedJob(dataDir: string, id: string, bytes: number, daysAgo: number): void {
  const dir = path.join(dataDir, 'jobs', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'result.mp4'), Buffer.alloc(bytes));
  const store = new JobStore(path.join(dataDir, 'jobs.sqlite'));
  store.insert({ id, options: {}, video: { name: `${id}.mp4`, file: 'source.mp4', width: 2, height: 2, frames: 1, fps: 1, duration_s: 1, bytes: 1 } });
  store.finish(id, 'done');
  store.close();
  const db = new Database(path.join(dataDir, 'jobs.sqlite'));
  db.prepare('UPDATE jobs SET finished_at = ? WHERE id = ?').run(new Date(Date.now() - daysAgo * 86_400_000).toISOString(), id);
  db.close();
}

async function upload(base: string) {
  const form = new FormData();
  form.append('video', new Blob([readFileSync(clip)]), 'clip.mp4');
  return getJson(base, '/api/uploads', { method: 'POST', body: form });
}

test('old finished jobs are removed at start-up; the oldest make room under the quota; 507 when nothing can', async () => {
  const dataDir = ws.file('data');
  finishedJob(dataDir, 'aaaaaaaaaaaaaaa1', 1000, 10);
  finishedJob(dataDir, 'aaaaaaaaaaaaaaa2', 3_000_000, 2);
  finishedJob(dataDir, 'aaaaaaaaaaaaaaa3', 1000, 1);
  const srv = await startTestServer(dataDir, ws.model, { keepDays: 7, quotaBytes: 3_000_000 });
  try {
    assert.equal((await getJson(srv.url, '/api/jobs/aaaaaaaaaaaaaaa1')).status, 404, 'older than --keep-days: gone');
    assert.ok(!existsSync(path.join(dataDir, 'jobs', 'aaaaaaaaaaaaaaa1')));
    assert.equal((await getJson(srv.url, '/api/jobs/aaaaaaaaaaaaaaa2')).status, 200);
    const r = await upload(srv.url);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    // The oldest finished job made room; the newer one stays.
    assert.equal((await getJson(srv.url, '/api/jobs/aaaaaaaaaaaaaaa2')).status, 404);
    assert.equal((await getJson(srv.url, '/api/jobs/aaaaaaaaaaaaaaa3')).status, 200);
  } finally {
    await srv.close();
  }
  const tiny = await startTestServer(ws.file('data-tiny'), ws.model, { quotaBytes: 1000 });
  try {
    const r = await upload(tiny.url);
    assert.equal(r.status, 507);
    assert.match(String(r.body.error), /storage quota full .*--quota-gb/);
  } finally {
    await tiny.close();
  }
});
