/**
 * Scale-out on a real queue: a real redis-server on 127.0.0.1 (Debian's package), `videoshop serve --queue` in-process
 * and two `videoshop worker` processes on the tiny model. The workers share the jobs and fetch their media from the
 * server over HTTP (a 600 MB video: none of it in Redis); a worker killed mid-job (SIGKILL) has its job retried by
 * the other; a server restarted mid-job gets its result; a job Redis loses is run again.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openAsBlob, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, test } from 'node:test';
import path from 'node:path';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../../src/server/redis-dispatcher.js';
import type { RunningServer } from '../../src/server/server.js';
import { spawnVideoshop, type CliProcess } from '../helpers/cli.js';
import { createWorkspace, ffmpeg, firstFrame, makeVideo, probe, type Workspace } from '../edit/fixtures.js';
import { getJson, postJob, readEvents, startTestServer, waitFinished, type JobJson } from './helpers.js';

const REDIS = '/usr/bin/redis-server';
const skip = !existsSync(REDIS) && `no ${REDIS} (apt-get install redis-server)`;

let ws: Workspace;
let redis: ChildProcess;
let url: string;
let srv: RunningServer;
const workers: CliProcess[] = [];
let clip: string;
let long: string;
let edited: string;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function startWorker(): Promise<CliProcess> {
  const w = spawnVideoshop(['worker', '--queue', url, '--model', ws.model, '--lock-seconds', '3'], { env: ws.env, timeoutMs: 170_000 });
  const deadline = Date.now() + 30_000;
  while (!/^videoshop worker \S+: taking jobs/m.test(w.stdout())) {
    if (w.child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start: ${w.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  workers.push(w);
  return w;
}

before(async () => {
  if (skip) return;
  ws = createWorkspace('server-redis');
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', ws.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    redis.stdout!.on('data', (c: Buffer) => {
      out += c;
      if (/Ready to accept connections/.test(out)) resolve();
    });
    redis.on('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 16 });
  long = await makeVideo(ws.file('long.mp4'), { frames: 30 });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
  srv = await startTestServer(ws.file('data'), ws.model, { queueUrl: url, maxUploadBytes: 2 * 1024 ** 3 });
  await Promise.all([startWorker(), startWorker()]);
});

after(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGINT');
  await Promise.all(workers.map((w) => w.done));
  await srv?.close();
  redis?.kill('SIGTERM');
  ws?.remove();
});

test('two workers share the jobs; every result reaches the server', { skip, timeout: 150_000 }, async () => {
  const health = await getJson(srv.url, '/api/health');
  assert.equal((health.body.model as { state: string }).state, 'remote');
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await postJob(srv.url, { video: clip, editedFrame: edited, options: { steps: 2, seed: i } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ids.push(String(r.body.id));
  }
  const ran = new Set<string>();
  for (const id of ids) {
    const job = await waitFinished(srv.url, id, 120_000) as JobJson & { result: { worker: string } };
    assert.equal(job.status, 'done', JSON.stringify(job));
    ran.add(job.result.worker);
    const res = await fetch(new URL(`/api/jobs/${id}/result`, srv.url));
    const file = ws.file(`result-${id}.mp4`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const p = await probe(file);
    assert.deepEqual([p.frames, p.width, p.height], [16, 200, 120]);
  }
  assert.equal(ran.size, 2, `both workers ran jobs: ${[...ran].join(', ')}`);
});

test('a worker killed mid-job: its job is retried by the other worker and finishes', { skip, timeout: 150_000 }, async () => {
  // The default 25 steps (13 run per block, over several blocks): long enough that the job is still running when
  // its progress, relayed through Redis, has reached the test (with 8 steps a quiet machine finished it first).
  const id = String((await postJob(srv.url, { video: long, editedFrame: edited, options: { steps: 25 } })).body.id);
  const seen = await readEvents(srv.url, id, (j) => j.progress?.stage === 'invert' && Boolean((j as { worker?: string }).worker));
  const runner = (seen.at(-1) as JobJson & { worker: string }).worker;
  const victim = workers.find((w) => runner.endsWith(`:${w.child.pid}`));
  assert.ok(victim, `the worker running it (${runner}) is one of ours`);
  victim.child.kill('SIGKILL');
  const job = await waitFinished(srv.url, id, 120_000) as JobJson & { result: { worker: string } };
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.notEqual(job.result.worker, runner, 'the other worker finished it');
  assert.equal(job.attempts, 2);
  // Two workers again for what follows.
  workers.splice(workers.indexOf(victim), 1);
  await startWorker();
});

test('a server restarted while a job runs gets its result: the worker waits for it, then sends the result', { skip, timeout: 150_000 }, async () => {
  const id = String((await postJob(srv.url, { video: clip, editedFrame: edited, options: { steps: 2 } })).body.id);
  await readEvents(srv.url, id, (j) => j.status === 'running');
  const port = Number(new URL(srv.url).port);
  await srv.close();
  // The worker finishes the edit meanwhile, then waits for the server to take the result.
  await new Promise((r) => setTimeout(r, 4000));
  srv = await startTestServer(ws.file('data'), ws.model, { queueUrl: url, port, maxUploadBytes: 2 * 1024 ** 3 });
  const job = await waitFinished(srv.url, id, 90_000);
  assert.equal(job.status, 'done', JSON.stringify(job));
  const res = await fetch(new URL(`/api/jobs/${id}/result`, srv.url));
  assert.equal(res.status, 200);
  assert.ok((await res.arrayBuffer()).byteLength > 1000);
});

test('a job Redis loses while it runs is noticed: its worker goes on to the next job, the server runs it again', { skip, timeout: 200_000 }, async () => {
  const id = String((await postJob(srv.url, { video: long, editedFrame: edited, options: { steps: 12 } })).body.id);
  await readEvents(srv.url, id, (j) => j.progress?.stage === 'invert');
  const redisClient = new Redis(url);
  try {
    // What an eviction or a FLUSHALL does to a job: its keys are gone.
    const keys = await redisClient.keys(`bull:${QUEUE_NAME}:${id}*`);
    assert.ok(keys.length > 0);
    await redisClient.del(...keys);
    await redisClient.lrem(`bull:${QUEUE_NAME}:active`, 0, id);
  } finally {
    redisClient.disconnect();
  }
  const job = await waitFinished(srv.url, id, 180_000);
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.ok(job.attempts >= 2, `run again: ${job.attempts} starts`);
  for (const w of workers) assert.ok(w.child.exitCode === null && w.child.signalCode === null, `worker ${w.child.pid} survived: ${w.stderr()}`);
  assert.deepEqual(readdirSync(tmpdir()).filter((n) => /^videoshop-worker-\d+-/.test(n)).flatMap((n) => readdirSync(path.join(tmpdir(), n))), [],
    'no job folder left in the workers\' scratch');
});

test('a 600 MB video: its media go over HTTP, streamed (Redis and the server hold none of it), and the job runs', { skip, timeout: 300_000 }, async () => {
  // Raw 720p frames in Matroska: 1.38 MB a frame, 450 frames.
  const big = ws.file('big.mkv');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-t', '18', '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', big]);
  const bytes = statSync(big).size;
  assert.ok(bytes > 600e6, `${bytes} bytes`);
  const frame = await firstFrame(big, ws.file('big-edited.png'), { box: true });
  const form = new FormData();
  form.append('video', await openAsBlob(big), 'big.mkv');
  form.append('edited_frame', await openAsBlob(frame), 'edited.png');
  form.append('options', JSON.stringify({ steps: 2, duration: 0.4, size: '64x36' }));
  const rss = process.memoryUsage().rss;
  const created = await fetch(new URL('/api/jobs', srv.url), { method: 'POST', body: form });
  assert.equal(created.status, 201, await created.clone().text());
  const id = String(((await created.json()) as { id: string }).id);
  const redisClient = new Redis(url);
  let peak = 0;
  try {
    const poll = setInterval(() => {
      void redisClient.info('memory').then((info) => {
        peak = Math.max(peak, Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0));
      }, () => {});
    }, 200);
    const job = await waitFinished(srv.url, id, 240_000);
    clearInterval(poll);
    assert.equal(job.status, 'done', JSON.stringify(job));
  } finally {
    redisClient.disconnect();
  }
  assert.ok(peak < 50e6, `Redis used at most ${(peak / 1e6).toFixed(1)} MB`);
  const grown = process.memoryUsage().rss - rss;
  assert.ok(grown < 300e6, `the server's process grew by ${(grown / 1e6).toFixed(0)} MB for a ${(bytes / 1e6).toFixed(0)} MB video`);
  const res = await fetch(new URL(`/api/jobs/${id}/result`, srv.url));
  const file = ws.file('big-result.mp4');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const p = await probe(file);
  assert.deepEqual([p.frames, p.width, p.height], [10, 1280, 720]);
});
