/**
 * `videoshop serve` as a user starts it (a child process): the URL it prints, the token a non-loopback bind
 * requires (generated and printed; Bearer header, or the link's cookie for the page), queued and running jobs
 * surviving a crash (SIGKILL) and a Ctrl-C, a job cut off twice marked failed, and one-line refusals.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { JobStore } from '../../src/server/store.js';
import { spawnVideoshop, type CliProcess } from '../helpers/cli.js';
import { createWorkspace, firstFrame, makeVideo, type Workspace } from '../edit/fixtures.js';
import { getJson, postJob, readEvents, startTestServer, waitFinished, type JobJson } from './helpers.js';

let ws: Workspace;
let clip: string;
let long: string;
let edited: string;

before(async () => {
  ws = createWorkspace('server-cli');
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 16 });
  long = await makeVideo(ws.file('long.mp4'), { frames: 30 });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
});

after(() => ws?.remove());

/** Starts `videoshop serve` and resolves with it and the URL line it printed. */
async function serve(args: string[]): Promise<{ cli: CliProcess; url: string; out: string }> {
  const cli = spawnVideoshop(['serve', '--port', '0', '--model', ws.model, ...args], { env: ws.env, timeoutMs: 120_000 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /^videoshop serve: (http:\/\/\S+)$/m.exec(cli.stdout());
    if (m) return { cli, url: m[1], out: cli.stdout() };
    if (cli.child.exitCode !== null || Date.now() > deadline) {
      const r = await Promise.race([cli.done, new Promise((r) => setTimeout(r, 100))]);
      throw new Error(`serve did not start: ${JSON.stringify(r)} ${cli.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(cli: CliProcess, signal: NodeJS.Signals = 'SIGINT') {
  cli.child.kill(signal);
  return cli.done;
}

test('a non-loopback bind needs the token: generated and printed; Bearer for the API, the link sets a cookie for the page', async () => {
  const { cli, url, out } = await serve(['--host', '0.0.0.0', '--data-dir', ws.file('data-token')]);
  try {
    const token = /^token \(generated.*\): (\S+)$/m.exec(out)?.[1];
    assert.ok(token && token.length >= 20, out);
    const link = new URL(url);
    assert.equal(link.searchParams.get('token'), token);
    const local = `http://127.0.0.1:${link.port}`;
    const denied = await getJson(local, '/api/health');
    assert.equal(denied.status, 401);
    assert.match(String(denied.body.error), /missing or wrong token/);
    assert.equal((await getJson(local, '/api/health', { headers: { Authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
    assert.equal((await postJob(local, { video: clip, editedFrame: edited })).status, 401);
    const ok = await getJson(local, '/api/health', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.auth, 'token');
    assert.equal((await fetch(`${local}/`)).status, 401, 'the page too');

    const login = await fetch(`${local}/?token=${encodeURIComponent(token)}`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const jar = cookie.split(';')[0];
    assert.equal((await fetch(`${local}/`, { headers: { Cookie: jar } })).status, 200);
    assert.equal((await getJson(local, '/api/jobs', { headers: { Cookie: jar } })).status, 200);
    assert.equal((await fetch(`${local}/?token=nope`, { redirect: 'manual' })).status, 401);
  } finally {
    const r = await stop(cli);
    assert.equal(r.code, 0, r.stderr);
  }
});

test('queued and running jobs survive a crash (SIGKILL) and a Ctrl-C: re-queued, then done in order', async () => {
  const dataDir = ws.file('data-restart');
  let { cli, url } = await serve(['--data-dir', dataDir]);
  const a = String((await postJob(url, { video: long, editedFrame: edited, options: { steps: 4, seed: 1 } })).body.id);
  const b = String((await postJob(url, { video: clip, editedFrame: edited, options: { steps: 2 } })).body.id);
  await readEvents(url, a, (j) => j.progress?.stage === 'invert');
  assert.equal(((await getJson(url, `/api/jobs/${b}`)).body as unknown as JobJson).status, 'queued');
  const killed = await stop(cli, 'SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');

  ({ cli, url } = await serve(['--data-dir', dataDir]));
  try {
    const jobs = (await getJson(url, '/api/jobs')).body.jobs as JobJson[];
    assert.deepEqual(jobs.map((j) => j.id), [b, a], 'both jobs are still there');
    const ja = jobs.find((j) => j.id === a)!;
    assert.ok(ja.status === 'queued' || ja.status === 'running', `the cut-off job is re-queued: ${ja.status}`);
    assert.equal(ja.requeued, 'the server stopped while this job ran', 'the job says why it starts over');
    // Ctrl-C while `a` runs again: it goes back to the queue, not to failed.
    await readEvents(url, a, (j) => j.status === 'running' && j.progress !== null);
    const r = await stop(cli);
    assert.equal(r.code, 0, r.stderr);
    ({ cli, url } = await serve(['--data-dir', dataDir]));
    const doneA = await waitFinished(url, a, 120_000);
    const doneB = await waitFinished(url, b, 60_000);
    assert.equal(doneA.status, 'done', JSON.stringify(doneA));
    assert.equal(doneB.status, 'done', JSON.stringify(doneB));
    assert.equal(doneA.attempts, 2, 'started three times; the Ctrl-C (a clean stop) is not counted as an attempt, the crash is');
    assert.ok(doneA.started_at! < doneB.started_at!, 'FIFO kept across restarts');
  } finally {
    await stop(cli);
  }
});

test('a job cut off by two crashes is marked failed with the reason, not run a third time', async () => {
  const dataDir = ws.file('data-twice');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(dataDir, 'jobs', '00000000000000aa'), { recursive: true });
  const store = new JobStore(path.join(dataDir, 'jobs.sqlite'));
  store.insert({ id: '00000000000000aa', options: {}, video: { name: 'x.mp4', file: 'source.mp4', width: 2, height: 2, frames: 1, fps: 1, duration_s: 1, bytes: 1 } });
  store.markRunning('00000000000000aa');
  store.requeue('00000000000000aa', 'the server stopped while this job ran');
  store.markRunning('00000000000000aa');
  store.close();
  const srv = await startTestServer(dataDir, ws.model);
  try {
    const job = (await getJson(srv.url, '/api/jobs/00000000000000aa')).body as unknown as JobJson;
    assert.equal(job.status, 'failed');
    assert.match(String(job.error), /the server stopped while this job ran \(2 times\): not retried again/);
  } finally {
    await srv.close();
  }
});

test('refusals are one line and exit 2: a model that does not load, a port in use, no Redis, a bad token', async () => {
  const bad = spawnVideoshop(['serve', '--port', '0', '--model', ws.file('no-such-model'), '--data-dir', ws.file('data-bad')], { env: ws.env, timeoutMs: 60_000 });
  const r = await bad.done;
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('videoshop:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^videoshop: cannot load the model: /);
  assert.ok(!/^ {4}at /m.test(r.stderr), 'no stack trace');

  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const busy = await spawnVideoshop(['serve', '--port', String(port), '--model', ws.model, '--data-dir', ws.file('data-busy')], { env: ws.env }).done;
    assert.equal(busy.code, 2);
    assert.equal(busy.stderr.trim(), `videoshop: port ${port} on 127.0.0.1 is in use: pick another with --port`);
  } finally {
    blocker.close();
  }
  // Port 9 on loopback refuses connections: no Redis there.
  for (const args of [['worker', '--queue', 'redis://127.0.0.1:9', '--model', ws.model], ['serve', '--port', '0', '--queue', 'redis://127.0.0.1:9', '--data-dir', ws.file('data-noredis')]]) {
    const noRedis = await spawnVideoshop(args, { env: ws.env }).done;
    assert.equal(noRedis.code, 2, noRedis.stderr);
    assert.match(noRedis.stderr.trim(), /^videoshop: cannot reach Redis at redis:\/\/127\.0\.0\.1:9 \(is redis-server running\?\)[^\n]*$/);
  }
  const weak = await spawnVideoshop(['serve', '--token', 'short', '--data-dir', ws.file('data-weak')], { env: ws.env }).done;
  assert.equal(weak.code, 2);
  assert.match(weak.stderr.trim(), /^videoshop: --token must be at least 16 printable characters/);
});
