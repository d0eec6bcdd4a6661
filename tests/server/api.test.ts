/**
 * The HTTP API of `videoshop serve` on a real server (127.0.0.1, random port) with the tiny random SVD in a worker
 * thread: uploads checked and their first frame extracted, jobs run FIFO through editVideo with the CLI's option
 * names (the result equals editVideo's own with the same options), SSE progress, cancel (running and queued),
 * the API answering during inference, and the refusals: bad files, bad options, traversal, oversize, cross-origin.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { editVideo } from '../../src/edit/edit-video.js';
import type { RunningServer } from '../../src/server/server.js';
import { createWorkspace, decodeRgb, firstFrame, makeVideo, probe, type Workspace } from '../edit/fixtures.js';
import { getJson, postJob, readEvents, startTestServer, waitFinished, type JobJson } from './helpers.js';

let ws: Workspace;
let srv: RunningServer;
let base: string;
let clip: string;
let long: string;
let edited: string;

before(async () => {
  ws = createWorkspace('server-api');
  process.env.VIDEOSHOP_CACHE = ws.env.VIDEOSHOP_CACHE;
  process.env.HF_ENDPOINT = ws.env.HF_ENDPOINT;
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 16 });
  // 6 blocks at the default 13 steps: long enough to cancel in the middle.
  long = await makeVideo(ws.file('long.mp4'), { frames: 60 });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
  srv = await startTestServer(ws.file('data'), ws.model);
  base = srv.url;
});

after(async () => {
  await srv?.close();
  ws?.remove();
});

const FAST = { steps: 2, seed: 3 };

describe('reading', () => {
  test('health, options with the CLI defaults and help, the page with its CSP and no inline script', async () => {
    const health = await getJson(base, '/api/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal((health.body.model as { name: string }).name, ws.model);
    const options = await getJson(base, '/api/options');
    const specs = (options.body.options as { name: string; default?: unknown; help: string }[]);
    const steps = specs.find((o) => o.name === 'steps')!;
    assert.equal(steps.default, 25);
    assert.match(steps.help, /steps of the full schedule/);
    assert.equal(specs.find((o) => o.name === 'strength')?.default, 0.55);
    assert.ok(!specs.some((o) => ['output', 'edited-frame', 'frames-dir', 'force', 'unet'].includes(o.name)), 'no file options');
    assert.equal((health.body.model as { unet: unknown }).unet, null, 'no --unet given');

    const page = await fetch(new URL('/', base));
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'every script is a file');
    assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i, 'no inline style or handler');
    assert.equal((await fetch(new URL('/app.js', base))).status, 200);
  });

  test('before any job has finished, a time estimate comes from the worker\'s test edit after loading', async () => {
    let body: Record<string, unknown> = {};
    for (const t0 = Date.now(); Date.now() - t0 < 60_000;) {
      body = (await getJson(base, '/api/estimate?frames=16&width=200&height=120&options=%7B%22steps%22%3A2%7D')).body;
      if (body.eta_s !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(Number(body.eta_s) >= 1, JSON.stringify(body));
    assert.match(String(body.basis), /^a \d+×\d+ test edit at startup; refined after the first job$/);
    assert.equal(srv.queue.store.list().filter((j) => j.status === 'done').length, 0, 'no job had finished');
  });

  test('unknown endpoints, wrong methods and directory paths answer JSON errors', async () => {
    for (const [p, status] of [['/api/nope', 404], ['/api/jobs/', 404], ['/web/', 404], ['/src/', 404], ['/app.js/', 404]] as const) {
      const res = await fetch(new URL(p, base));
      assert.equal(res.status, status, p);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/, p);
      assert.ok(((await res.json()) as { error: string }).error, p);
    }
    const put = await getJson(base, '/api/jobs', { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.match(String(put.body.error), /PUT is not allowed/);
  });
});

describe('uploads', () => {
  test('a video upload is probed and its first frame extracted at the video size', async () => {
    const form = new FormData();
    form.append('video', new Blob([readFileSync(clip)]), 'my clip.mp4');
    const res = await getJson(base, '/api/uploads', { method: 'POST', body: form });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const video = res.body.video as Record<string, unknown>;
    assert.deepEqual([video.name, video.width, video.height, video.frames, video.fps], ['my clip.mp4', 200, 120, 16, 12]);
    assert.match(String(res.body.id), /^[0-9a-f]{16}$/);
    const frame = Buffer.from(await (await fetch(new URL(String(res.body.frame_url), base))).arrayBuffer());
    const meta = await sharp(frame).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 200, 120]);
    const ranged = await fetch(new URL(String(res.body.video_url), base), { headers: { Range: 'bytes=0-99' } });
    assert.equal(ranged.status, 206);
    assert.equal((await ranged.arrayBuffer()).byteLength, 100);

    // Before Render: the region an edited frame changes, as the edit's localizer sees it, and the warnings known now.
    const region = async (image: string) => {
      const f = new FormData();
      f.append('edited_frame', new Blob([readFileSync(image)]), 'edited.png');
      return getJson(base, `/api/uploads/${String(res.body.id)}/region`, { method: 'POST', body: f });
    };
    const boxed = await region(edited); // a 60×40 red box at 40,30 of 200×120: 10% of the frame
    assert.equal(boxed.status, 200, JSON.stringify(boxed.body));
    assert.equal(boxed.body.looks_unedited, false);
    assert.equal(boxed.body.whole_frame, false);
    assert.ok(Number(boxed.body.coverage) > 0.05 && Number(boxed.body.coverage) < 0.2, `coverage ${String(boxed.body.coverage)}`);
    assert.deepEqual(boxed.body.warnings, []);
    const mask = await sharp(Buffer.from(String(boxed.body.mask_png), 'base64')).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([mask.info.width, mask.info.height], [boxed.body.width, boxed.body.height]);
    const at = (x: number, y: number) =>
      mask.data[(Math.round(y * mask.info.height / 120) * mask.info.width + Math.round(x * mask.info.width / 200)) * mask.info.channels];
    assert.equal(at(70, 50), 255, 'inside the box');
    assert.equal(at(170, 100), 0, 'far from it');
    const same = await region(await firstFrame(clip, ws.file('unedited.png')));
    assert.equal(same.body.looks_unedited, true);
    assert.match(String((same.body.warnings as string[])[0]), /looks the same as the video's first frame/);
  });

  test('what is not a video or not an image is refused before queueing, with the reason', async () => {
    const junk = ws.file('junk.mp4');
    writeFileSync(junk, 'this is not a video');
    let r = await postJob(base, { video: junk, editedFrame: edited });
    assert.equal(r.status, 400);
    assert.match(String(r.body.error), /^video rejected: not a video ffmpeg can read: junk\.mp4/);
    assert.doesNotMatch(String(r.body.error), new RegExp(ws.dir), 'no server path in the message');
    r = await postJob(base, { video: clip, editedFrame: junk });
    assert.equal(r.status, 400);
    assert.match(String(r.body.error), /edited_frame rejected/);
    // The edited frame given as the video: ffmpeg would read it as a one-frame video.
    r = await postJob(base, { video: edited, editedFrame: edited, videoName: 'frame.png' });
    assert.equal(r.status, 400);
    assert.match(String(r.body.error), /^video rejected: frame\.png is a still image, not a video/);
    assert.doesNotMatch(String(r.body.error), new RegExp(ws.dir), 'no server path in the message');
    const tall = await firstFrame(clip, ws.file('tall.png'), { scale: '100:200' });
    r = await postJob(base, { video: clip, editedFrame: tall });
    assert.equal(r.status, 400);
    assert.match(String(r.body.error), /is 100×200 but the video is 200×120.*fit/);
    // Over the edit's image budget (40 MP, video/image.ts): refused here, not at edit time. 8200×5000 at 5:3.
    const huge = ws.file('huge.png');
    await sharp({ create: { width: 8200, height: 5000, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toFile(huge);
    r = await postJob(base, { video: clip, editedFrame: huge });
    assert.equal(r.status, 400);
    assert.match(String(r.body.error), /^edited_frame rejected: 8200×5000 is over 40 megapixels/);
    r = await postJob(base, { video: clip });
    assert.equal(r.status, 400);
    assert.match(String(r.body.error), /edited_frame/);
    const jobs = await getJson(base, '/api/jobs');
    assert.deepEqual(jobs.body.jobs, [], 'nothing was queued');
    assert.deepEqual(readdirSync(srv.queue.jobsDir), [], 'no job folder left behind');
  });

  test('bad options are refused by the schema, before queueing, naming the option with its code', async () => {
    const cases: [unknown, RegExp, string?][] = [
      [{ steps: 'many' }, /^steps must be an integer in \[1, 1000\], got "many"/, 'steps'],
      [{ strength: 3 }, /^strength must be a number in \(0, 1\], got 3/, 'strength'],
      [{ output: '/etc/passwd' }, /^unknown option "output"/],
      [{ normalization: 'magic' }, /must be one of per-frame-centered, per-channel, none/, 'normalization'],
      [{ size: '-1x5' }, /^size must be a size WxH/, 'size'],
      [{ size: '1x1' }, /^size must be a size WxH with whole sides \[16, 131072\]/, 'size'],
      [{ crf: 1000 }, /^crf must be an integer in \[0, 63\]/, 'crf'],
      [{ 'block-frames': 0 }, /^block-frames must be an integer in \[2, 256\]/, 'block-frames'],
      [{ blockOverlap: -1 }, /^block-overlap must be an integer in \[1, 128\]/, 'block-overlap'],
      [{ 'block-frames': 8, 'block-overlap': 5 }, /^block-overlap 5: must be between 1 and half the block \(4 frames\)/, 'block-overlap'],
      [{ codec: 'ffv1' }, /^\.mp4 cannot hold ffv1: use codec h264 or hevc/, 'codec'],
      [{ threads: 4 }, /^unknown option "threads"/],
      [{ model: 'someone/else' }, /this server runs/],
      // A job never names a file on the server (nor makes it download one): the UNet is the operator's `serve --unet`.
      [{ unet: '/etc/passwd' }, /^option unet: the UNet file is chosen by whoever starts the server/, 'unet'],
      [{ unet: 'wangfuyun/AnimateLCM-SVD-xt/AnimateLCM-SVD-xt.safetensors' }, /a job cannot set it/, 'unet'],
      ['[1,2]', /options must be a JSON object/],
      ['{nope', /options is not valid JSON/],
    ];
    for (const [options, message, field] of cases) {
      const r = await postJob(base, { video: clip, editedFrame: edited, options });
      assert.equal(r.status, 400, JSON.stringify(options));
      assert.match(String(r.body.error), message);
      if (field) assert.deepEqual([r.body.code, r.body.field], ['bad_option', field], JSON.stringify(r.body));
    }
    assert.deepEqual((await getJson(base, '/api/jobs')).body.jobs, [], 'nothing was queued');
  });

  test('ids and names from the client never reach the file system', async () => {
    for (const p of ['/api/jobs/..%2F..%2Fjobs.sqlite', '/api/jobs/../../etc/passwd', '/api/jobs/%2e%2e/result', '/api/uploads/..%2Fjobs/frame.png',
      '/api/jobs/0123456789abcdef/result', '/../package.json', '/%2e%2e/package.json', '/index.html/..%2f..%2fpackage.json']) {
      const res = await fetch(new URL(p, base));
      assert.ok(res.status === 404 || res.status === 400, `${p}: ${res.status}`);
      assert.doesNotMatch(await res.text(), /"name": "videoshop"|SQLite format/, p);
    }
    const r = await postJob(base, { upload: '../../etc', editedFrame: edited });
    assert.equal(r.status, 404);
    // A client's file name with a path in it is kept for display only.
    const named = await postJob(base, { video: clip, editedFrame: edited, options: { ...FAST, steps: 1, strength: 1 }, videoName: '../../../evil.mp4' });
    assert.equal(named.status, 201, JSON.stringify(named.body));
    const id = String(named.body.id);
    assert.deepEqual(readdirSync(srv.queue.jobDir(id)).sort().filter((f) => !f.startsWith('.')).filter((f) => f !== 'result.mp4'),
      ['edited.png', 'source.mp4', 'thumb.jpg']);
    assert.ok(!existsSync(path.resolve(srv.queue.jobsDir, '../../../evil.mp4')));
    assert.equal((await waitFinished(base, id)).status, 'done');
    await getJson(base, `/api/jobs/${id}`, { method: 'DELETE' });
  });

  test('state-changing requests from another origin are refused; a foreign Host too', async () => {
    const foreign: Record<string, string>[] = [{ Origin: 'http://evil.example' }, { Origin: 'null' }, { 'Sec-Fetch-Site': 'cross-site' }];
    for (const headers of foreign) {
      const r = await postJob(base, { video: clip, editedFrame: edited }, headers);
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.match(String(r.body.error), /cross-(origin|site) request refused/);
    }
    const del = await getJson(base, '/api/jobs/0123456789abcdef', { method: 'DELETE', headers: { Origin: 'http://evil.example' } });
    assert.equal(del.status, 403);
    // fetch may not set Host: a raw request, as a rebound DNS name would send it.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(new URL('/api/health', base), { headers: { Host: 'evil.example' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound.status, 421);
    assert.match(JSON.parse(rebound.body).error, /answers only to localhost/);
    assert.deepEqual((await getJson(base, '/api/jobs')).body.jobs, []);
  });

  test('an upload over the size limit is refused with 413, and nothing is kept', async () => {
    const small = await startTestServer(ws.file('data-small'), ws.model, { maxUploadBytes: 20_000 });
    try {
      const big = ws.file('big.mp4');
      writeFileSync(big, Buffer.alloc(200_000, 7));
      const r = await postJob(small.url, { video: big, editedFrame: edited });
      assert.equal(r.status, 413);
      assert.match(String(r.body.error), /upload too large: .*the limit is 0\.0 MB|upload too large/);
      // Without a Content-Length up front (chunked): refused while streaming.
      const stream = new ReadableStream({
        start(c) {
          const form = `--x\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n\r\n`;
          c.enqueue(new TextEncoder().encode(form));
          c.enqueue(new Uint8Array(100_000));
          c.enqueue(new TextEncoder().encode('\r\n--x--\r\n'));
          c.close();
        },
      });
      const res = await fetch(new URL('/api/uploads', small.url), { method: 'POST', body: stream, duplex: 'half', headers: { 'Content-Type': 'multipart/form-data; boundary=x' } } as RequestInit);
      assert.equal(res.status, 413);
      assert.deepEqual(readdirSync(path.join(ws.file('data-small'), 'uploads')), []);
      assert.deepEqual(readdirSync(small.queue.jobsDir), []);
      const health = await getJson(small.url, '/api/health');
      assert.equal((health.body.limits as { max_upload_bytes: number }).max_upload_bytes, 20_000);
    } finally {
      await small.close();
    }
  });
});

describe('jobs', () => {
  test('a job runs with the CLI option names: progress over SSE, the result equals editVideo with the same options', async () => {
    const created = await postJob(base, { video: clip, editedFrame: edited, options: FAST });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(String(created.body.status), /^(queued|running)$/);
    const id = String(created.body.id);
    const events = await readEvents(base, id);
    const last = events.at(-1)!;
    assert.equal(last.status, 'done', JSON.stringify(last));
    const running = events.filter((e) => e.status === 'running' && e.progress);
    assert.ok(running.length >= 3, `progress events: ${running.length}`);
    const stages = new Set(running.map((e) => e.progress!.stage));
    for (const s of ['read', 'invert', 'denoise', 'decode'] as const) assert.ok(stages.has(s), `stage ${s} seen`);
    for (const e of running) {
      const p = e.progress!;
      // The engine's own progress event, as the library's onProgress gets it.
      assert.deepEqual(Object.keys(p).sort(), ['block', 'blocks', 'elapsedSeconds', 'etaSeconds', 'fraction', 'stage', 'step', 'total']);
      assert.ok(p.fraction >= 0 && p.fraction <= 1);
    }
    const fractions = running.map((e) => e.progress!.fraction);
    assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), 'fraction never goes back');
    assert.ok(running.some((e) => e.progress!.block === 2 && e.progress!.blocks === 2), 'both blocks reported');
    assert.equal(last.progress?.fraction, 1);

    const res = await fetch(new URL(`/api/jobs/${id}/result`, base));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    const served = ws.file('served.mp4');
    writeFileSync(served, Buffer.from(await res.arrayBuffer()));
    const p = await probe(served);
    assert.deepEqual([p.frames, p.width, p.height, p.fps], [16, 200, 120, '12/1']);
    const direct = ws.file('direct.mp4');
    await editVideo({ video: clip, editedFrame: edited, output: direct, model: ws.model, method: FAST });
    assert.ok((await decodeRgb(served)).equals(await decodeRgb(direct)), 'the server ran exactly editVideo with these options');
    const download = await fetch(new URL(`/api/jobs/${id}/result?download=1`, base));
    assert.match(download.headers.get('content-disposition') ?? '', /attachment; filename="clip-videoshop\.mp4"/);
    await download.arrayBuffer();

    // The history keeps it, with its thumbnail, until deleted.
    const listed = (await getJson(base, '/api/jobs')).body.jobs as { id: string; status: string }[];
    assert.ok(listed.some((j) => j.id === id && j.status === 'done'));
    assert.equal((await fetch(new URL(`/api/jobs/${id}/thumb.jpg`, base))).headers.get('content-type'), 'image/jpeg');
    const estimate = await getJson(base, '/api/estimate?frames=16&width=200&height=120&options=%7B%22steps%22%3A2%7D');
    assert.ok(Number(estimate.body.eta_s) >= 1, `an estimate from this job's pace: ${JSON.stringify(estimate.body)}`);
    const deleted = await getJson(base, `/api/jobs/${id}`, { method: 'DELETE' });
    assert.equal(deleted.body.result, 'deleted');
    assert.equal((await getJson(base, `/api/jobs/${id}`)).status, 404);
    assert.ok(!existsSync(srv.queue.jobDir(id)));
  });

  test('FIFO, one at a time; the API answers during inference; a running job cancels within a step, a queued one at once', async () => {
    const pid = srv.workerPids()[0];
    const first = String((await postJob(base, { video: long, editedFrame: edited, options: { seed: 1 } })).body.id);
    const second = String((await postJob(base, { video: clip, editedFrame: edited, options: FAST })).body.id);
    const third = String((await postJob(base, { video: clip, editedFrame: edited, options: FAST })).body.id);
    const states = await readEvents(base, first, (j) => j.progress?.stage === 'invert');
    assert.equal(states.at(-1)!.status, 'running');
    // While the inference process is inside UNet calls, the server answers at once.
    const t0 = performance.now();
    const q = (await getJson(base, `/api/jobs/${second}`)).body as unknown as JobJson;
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `answered in ${ms.toFixed(0)} ms during inference`);
    assert.equal(q.status, 'queued');
    assert.equal(q.queue_position, 1);
    assert.equal(((await getJson(base, `/api/jobs/${third}`)).body as unknown as JobJson).queue_position, 2);

    const c3 = await getJson(base, `/api/jobs/${third}`, { method: 'DELETE' });
    assert.equal(c3.body.result, 'cancelled');
    const sent = performance.now();
    const c1 = await getJson(base, `/api/jobs/${first}`, { method: 'DELETE' });
    assert.equal(c1.body.result, 'cancelling');
    const stopped = await waitFinished(base, first, 30_000);
    assert.equal(stopped.status, 'cancelled');
    assert.ok(performance.now() - sent < 15_000, 'stopped within a step, not at the end');
    assert.equal((await fetch(new URL(`/api/jobs/${first}/result`, base))).status, 409);
    assert.ok(!existsSync(path.join(srv.queue.jobDir(first), 'result.mp4')));

    const next = await waitFinished(base, second);
    assert.equal(next.status, 'done', JSON.stringify(next));
    assert.equal(((await getJson(base, `/api/jobs/${third}`)).body as unknown as JobJson).status, 'cancelled');
    // The model stayed loaded: the worker process that ran `first` ran `second` too.
    assert.deepEqual(srv.workerPids(), [pid]);
  });

  test('an inference process that dies mid-job fails that job with the reason; a fresh one runs the next', async () => {
    const victim = String((await postJob(base, { video: long, editedFrame: edited, options: { seed: 2 } })).body.id);
    await readEvents(base, victim, (j) => j.progress?.stage === 'invert');
    const pid = srv.workerPids()[0]!;
    process.kill(pid, 'SIGKILL');
    const failed = await waitFinished(base, victim, 30_000);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error, 'the inference worker died (signal SIGKILL)');
    assert.equal((failed as JobJson & { error_code: string }).error_code, 'worker_died');
    const next = String((await postJob(base, { video: clip, editedFrame: edited, options: FAST })).body.id);
    assert.equal((await waitFinished(base, next)).status, 'done');
    assert.notEqual(srv.workerPids()[0], pid, 'a new worker process');
  });
});
