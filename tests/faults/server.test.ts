/**
 * One request must never take `videoshop serve` down, and nothing it refuses may cost data (docs/reliability.md §6).
 * Every case runs against a real server process while a job runs in it; after each hostile request the server still
 * answers, and at the end the job is done and nothing finished was lost.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createWorkspace, firstFrame, makeVideo, type Workspace } from '../edit/fixtures.js';
import { spawnVideoshop } from '../helpers/cli.js';
import { rawHttp } from '../helpers/raw-http.js';
import { getJson, postJob, spawnServe, startTestServer, waitFinished, type JobJson, type ServeProcess } from '../server/helpers.js';
import { mountTmpfs, tmpfsUnavailable } from './helpers.js';

let ws: Workspace;
let clip: string;
let long: string;
let edited: string;

before(async () => {
  ws = createWorkspace('faults-server');
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 8 });
  long = await makeVideo(ws.file('long.mp4'), { frames: 40 });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
});
after(() => ws?.remove());

function raw(url: string, bytes: string | Buffer, waitMs = 5000): Promise<string> {
  return rawHttp(Number(new URL(url).port), bytes, waitMs);
}

function request(url: string, method: string, target: string, headers: Record<string, string | number>, body = ''): string {
  const { host } = new URL(url);
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

async function alive(url: string): Promise<void> {
  const h = await getJson(url, '/api/health');
  assert.equal(h.status, 200);
}

describe('hostile and unlucky requests against a running server', () => {
  let srv: ServeProcess;
  let running: string;
  let finished: string;

  before(async () => {
    srv = await spawnServe(['--data-dir', ws.file('data-hostile')], { env: ws.env, model: ws.model });
    finished = String((await postJob(srv.url, { video: clip, editedFrame: edited, options: { steps: 2 } })).body.id);
    assert.equal((await waitFinished(srv.url, finished)).status, 'done');
    running = String((await postJob(srv.url, { video: long, editedFrame: edited, options: { steps: 12, seed: 5 } })).body.id);
  });

  after(async () => {
    // Whatever came before: the job that ran through it all is done, the finished one is still there, the server
    // exits cleanly.
    const job = await waitFinished(srv.url, running, 240_000);
    assert.equal(job.status, 'done', JSON.stringify(job));
    assert.equal((await getJson(srv.url, `/api/jobs/${finished}`)).status, 200);
    assert.equal((await fetch(new URL(`/api/jobs/${finished}/result`, srv.url))).status, 200);
    srv.cli.child.kill('SIGTERM');
    const r = await srv.cli.done;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /^ {4}at /m, 'no stack trace in the log');
  });

  test('a multipart body that ends without its closing boundary: 400, the server goes on', async () => {
    const body = '--x\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n0123456789abcdef';
    for (const target of ['/api/uploads', '/api/jobs']) {
      const answer = await raw(srv.url, request(srv.url, 'POST', target, { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': body.length }, body));
      assert.match(answer, /^HTTP\/1\.1 400 /, answer.slice(0, 200));
      assert.match(answer, /"code":"bad_request"/);
      await alive(srv.url);
    }
  });

  test('an estimate of 1e9 or 1e308 frames is refused at once; the largest allowed is planned in O(1)', async () => {
    for (const frames of ['1e9', '1e308', 'Infinity', '-5', 'NaN']) {
      const t0 = performance.now();
      const r = await getJson(srv.url, `/api/estimate?frames=${frames}&width=1920&height=1080`);
      assert.equal(r.status, 400, `${frames}: ${JSON.stringify(r.body)}`);
      assert.ok(performance.now() - t0 < 2000);
    }
    const t0 = performance.now();
    const big = await getJson(srv.url, '/api/estimate?frames=10368000&width=1920&height=1080');
    assert.equal(big.status, 200, JSON.stringify(big.body));
    assert.ok(Number(big.body.blocks) > 1e6);
    assert.ok(performance.now() - t0 < 2000);
    await alive(srv.url);
  });

  test('a declared Content-Length of 30 GB is refused (413) and deletes nothing', async () => {
    const before = readdirSync(path.join(ws.file('data-hostile'), 'jobs')).sort();
    const answer = await raw(srv.url, request(srv.url, 'POST', '/api/uploads',
      { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': 30_000_000_000 }, '--x\r\n'));
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.deepEqual(readdirSync(path.join(ws.file('data-hostile'), 'jobs')).sort(), before);
    assert.equal((await getJson(srv.url, `/api/jobs/${finished}`)).status, 200);
  });

  test('a malformed %-escape in a job id is a 404, never a 500', async () => {
    for (const p of ['/api/jobs/%E0%A4%A', '/api/jobs/%zz/result', '/api/uploads/%/frame.png']) {
      const r = await fetch(new URL(p, srv.url));
      assert.equal(r.status, 404, p);
    }
  });

  test('a UTF-8 file name is kept as sent', async () => {
    const form = new FormData();
    form.append('video', new Blob([readFileSync(clip)]), 'é中.mp4');
    const r = await getJson(srv.url, '/api/uploads', { method: 'POST', body: form });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal((r.body.video as { name: string }).name, 'é中.mp4');
  });

  test('values the edit would refuse are refused before queueing (400), not when the job runs', async () => {
    for (const options of [{ crf: 1000 }, { 'block-frames': 0 }, { 'block-overlap': -1 }, { size: '1x1' }, { codec: 'ffv1' }, { size: '102x62' }]) {
      const r = await postJob(srv.url, { video: clip, editedFrame: edited, options });
      assert.equal(r.status, 400, `${JSON.stringify(options)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'bad_option');
    }
  });
});

test('uploads count against the quota by the bytes that arrive, together: parallel uploads cannot overrun it', async () => {
  const big = ws.file('big.mp4');
  await makeVideo(big, { frames: 60, size: '640x360' });
  const size = readFileSync(big).length;
  const quota = Math.round(size * 2.5);
  const srv = await startTestServer(ws.file('data-quota'), ws.model, { quotaBytes: quota });
  try {
    const upload = () => {
      const form = new FormData();
      form.append('video', new Blob([readFileSync(big)]), 'big.mp4');
      return getJson(srv.url, '/api/uploads', { method: 'POST', body: form });
    };
    const results = await Promise.all(Array.from({ length: 6 }, upload));
    const ok = results.filter((r) => r.status === 201).length;
    assert.ok(ok >= 1 && ok <= 2, `${ok} of 6 accepted: ${results.map((r) => r.status).join(' ')}`);
    assert.ok(results.every((r) => r.status === 201 || r.status === 507), results.map((r) => r.status).join(' '));
    const stored = readdirSync(path.join(ws.file('data-quota'), 'uploads'));
    assert.equal(stored.filter((n) => !n.startsWith('.')).length, ok);
    assert.ok(stored.every((n) => !n.endsWith('.partial')), 'no partial upload left');
  } finally {
    await srv.close();
  }
});

test('a malformed %-escape in the token cookie is a 401, never a 500', async () => {
  const srv = await startTestServer(ws.file('data-cookie'), ws.model, { token: 't'.repeat(20) });
  try {
    const r = await fetch(new URL('/api/health', srv.url), { headers: { Cookie: 'videoshop_token=%E0%A4%A' } });
    assert.equal(r.status, 401);
  } finally {
    await srv.close();
  }
});

test('a body that stops arriving is dropped (408) and its connection freed; headers that trickle too', async () => {
  const srv = await startTestServer(ws.file('data-slow'), ws.model, { bodyIdleMs: 800 });
  try {
    const t0 = performance.now();
    const answer = await raw(srv.url, request(srv.url, 'POST', '/api/uploads',
      { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': 100_000 }, '--x\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n\r\nabc'), 10_000);
    assert.ok(performance.now() - t0 < 5000, `dropped after ${(performance.now() - t0).toFixed(0)} ms`);
    assert.ok(answer === '' || /^HTTP\/1\.1 408 /.test(answer), answer.slice(0, 100));
    // The partial upload goes once its file is closed, just after the connection.
    for (let t = Date.now(); readdirSync(path.join(ws.file('data-slow'), 'uploads')).length && Date.now() - t < 3000;) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(path.join(ws.file('data-slow'), 'uploads')), [], 'nothing kept');
    assert.equal(srv.server.headersTimeout, 20_000, 'headers must arrive within 20 s');
    await alive(srv.url);
  } finally {
    await srv.close();
  }
});

describe('the data folder and the job table', () => {
  test('a jobs.sqlite that is not a database, or is a folder: one line, exit 2, the file untouched', async () => {
    for (const kind of ['text', 'folder'] as const) {
      const dataDir = ws.file(`data-corrupt-${kind}`);
      mkdirSync(dataDir, { recursive: true });
      const table = path.join(dataDir, 'jobs.sqlite');
      if (kind === 'text') writeFileSync(table, 'my notes, not a database\n'.repeat(200));
      else mkdirSync(table);
      const r = await spawnVideoshop(['serve', '--port', '0', '--model', ws.model, '--data-dir', dataDir], { env: ws.env, timeoutMs: 60_000 }).done;
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], kind === 'text' ? /^videoshop: cannot use .*jobs\.sqlite as the job table: (is damaged|failed).*move the file away/ : /^videoshop: .*jobs\.sqlite is not a file/);
      if (kind === 'text') assert.equal(readFileSync(table, 'utf8'), 'my notes, not a database\n'.repeat(200));
      else assert.ok(existsSync(table));
    }
  });

  test('a data folder under a file, under /proc, or a HOME that is a file: one line, exit 2', async () => {
    const file = ws.file('a-file');
    writeFileSync(file, 'x');
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['--data-dir', path.join(file, 'data')], {}, /^videoshop: cannot use .*a-file\/data as the data folder \(a file is in the way\): choose another with --data-dir$/],
      [['--data-dir', '/proc/videoshop-data'], {}, /^videoshop: cannot use \/proc\/videoshop-data as the data folder \(a kernel file system, not a disk\)/],
      [[], { HOME: file, XDG_DATA_HOME: undefined, VIDEOSHOP_DATA: undefined }, /^videoshop: cannot use .*a-file\/\.local\/share\/videoshop as the data folder \(a file is in the way\)/],
    ];
    for (const [args, env, message] of cases) {
      const r = await spawnVideoshop(['serve', '--port', '0', '--model', ws.model, ...args], { env: { ...ws.env, ...env }, timeoutMs: 60_000 }).done;
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
    }
  });

  const noTmpfs = tmpfsUnavailable();
  test('a full disk: the server keeps serving, the running job fails with one line, nothing is lost; room again and it goes on',
    { skip: noTmpfs }, async () => {
      const dataDir = ws.file('data-full');
      const unmount = mountTmpfs(dataDir, '3m');
      let srv: ServeProcess | undefined;
      try {
        srv = await spawnServe(['--data-dir', dataDir, '--no-calibrate'], { env: ws.env, model: ws.model });
        const done = String((await postJob(srv.url, { video: clip, editedFrame: edited, options: { steps: 2 } })).body.id);
        assert.equal((await waitFinished(srv.url, done)).status, 'done');
        const job = String((await postJob(srv.url, { video: long, editedFrame: edited, options: { steps: 25 } })).body.id);
        // Fill the disk while the job runs: its progress and its end cannot be written, its output cannot either.
        const filler = path.join(dataDir, 'filler');
        try {
          writeFileSync(filler, Buffer.alloc(3 * 1024 * 1024));
        } catch {
          // full: that is the point
        }
        const failed = await waitFinished(srv.url, job, 240_000);
        assert.equal(failed.status, 'failed', JSON.stringify(failed));
        await alive(srv.url);
        assert.equal((await getJson(srv.url, `/api/jobs/${done}`)).status, 200, 'the finished job is still there');
        const refused = await postJob(srv.url, { video: clip, editedFrame: edited });
        assert.ok([507, 400].includes(refused.status), JSON.stringify(refused.body));
        // Room again: the server writes what it kept in memory and takes jobs again.
        writeFileSync(filler, '');
        const again = String((await postJob(srv.url, { video: clip, editedFrame: edited, options: { steps: 2 } })).body.id);
        assert.equal((await waitFinished(srv.url, again)).status, 'done');
        srv.cli.child.kill('SIGTERM');
        const r = await srv.cli.done;
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /^ {4}at /m, 'no stack trace');
        srv = undefined;
      } finally {
        srv?.cli.child.kill('SIGKILL');
        if (srv) await srv.cli.done;
        unmount();
      }
    });
});

describe('signals and leftovers', () => {
  test('SIGTERM then SIGHUP stops once, cleanly: the running job goes back to the queue, not to failed', async () => {
    const dataDir = ws.file('data-signals');
    let srv = await spawnServe(['--data-dir', dataDir, '--no-calibrate'], { env: ws.env, model: ws.model });
    const id = String((await postJob(srv.url, { video: long, editedFrame: edited, options: { steps: 10 } })).body.id);
    for (let t = Date.now(); ((await getJson(srv.url, `/api/jobs/${id}`)).body as unknown as JobJson).status !== 'running';) {
      if (Date.now() - t > 60_000) throw new Error('the job did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    srv.cli.child.kill('SIGTERM');
    srv.cli.child.kill('SIGHUP');
    const r = await srv.cli.done;
    assert.equal(r.code, 0, r.stderr);
    srv = await spawnServe(['--data-dir', dataDir, '--no-calibrate'], { env: ws.env, model: ws.model });
    try {
      const job = (await getJson(srv.url, `/api/jobs/${id}`)).body as unknown as JobJson;
      assert.ok(job.status === 'queued' || job.status === 'running', JSON.stringify(job));
      const done = await waitFinished(srv.url, id, 240_000);
      assert.equal(done.status, 'done');
      assert.equal(done.attempts, 1, 'the clean stop was not counted as a failed attempt');
    } finally {
      srv.cli.child.kill('SIGINT');
      await srv.cli.done;
    }
  });

  test('an inference process killed mid-job leaves no temporary output; a stop during the startup test edit leaves no clip', async () => {
    const dataDir = ws.file('data-leftovers');
    const srv = await startTestServer(dataDir, ws.model);
    try {
      const id = String((await postJob(srv.url, { video: long, editedFrame: edited, options: { steps: 10 } })).body.id);
      for (let t = Date.now(); !readdirSync(srv.queue.jobDir(id)).some((n) => n.startsWith('.result.mp4.tmp-'));) {
        if (Date.now() - t > 120_000) throw new Error(`the writer did not start: ${readdirSync(srv.queue.jobDir(id))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      process.kill(srv.workerPids()[0]!, 'SIGKILL');
      const failed = await waitFinished(srv.url, id, 30_000);
      assert.equal(failed.status, 'failed');
      assert.deepEqual(readdirSync(srv.queue.jobDir(id)).filter((n) => n.includes('result')), [], 'no result and no temp file');
    } finally {
      await srv.close();
    }
    // The fresh worker runs its test edit after loading; stopping now must leave no clip behind.
    const again = await startTestServer(dataDir, ws.model);
    await new Promise((r) => setTimeout(r, 1500));
    await again.close();
    assert.deepEqual(readdirSync(path.join(dataDir, 'tmp')), [], 'the test edit cleaned up');
  });
});
