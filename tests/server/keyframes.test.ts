/**
 * POST /api/jobs with later edited frames (`keyframe_<n>` + `keyframe_<n>_time`) and with `into_job` (a section
 * re-rendered into an earlier result), on a real server with the tiny random SVD: a keyframe reaches the edit (the
 * result equals editVideo's with that keyframe) and the estimate counts its block; a keyframe past the end or two
 * within one overlap are one-line 400s naming no server path; into_job refuses another video and a missing start;
 * a re-rendered section changes only the frames in the section.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { editVideo } from '../../src/edit/edit-video.js';
import type { RunningServer } from '../../src/server/server.js';
import { createWorkspace, decodeRgb, firstFrame, makeVideo, type Workspace } from '../edit/fixtures.js';
import { fileBlob, getJson, jobForm, startTestServer, waitFinished, type JobForm } from './helpers.js';

let ws: Workspace;
let srv: RunningServer;
let base: string;
let clip: string;
let edited: string;
let blue: string;

before(async () => {
  ws = createWorkspace('server-keyframes');
  process.env.VIDEOSHOP_CACHE = ws.env.VIDEOSHOP_CACHE;
  process.env.HF_ENDPOINT = ws.env.HF_ENDPOINT;
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 16 }); // 12 fps: frame i at i/12 s
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
  blue = ws.file('blue.png');
  await sharp({ create: { width: 200, height: 120, channels: 3, background: { r: 20, g: 40, b: 230 } } }).png().toFile(blue);
  // No test edit at startup: these tests need the model's geometry (known once it loaded), not a pace.
  srv = await startTestServer(ws.file('data'), ws.model, { worker: { model: ws.model, device: 'cpu', calibrate: false } });
  base = srv.url;
  for (const t0 = Date.now(); srv.queue.geometry() === null && Date.now() - t0 < 60_000;) await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  await srv?.close();
  ws?.remove();
});

const FAST = { steps: 2, seed: 3 };

/** POST /api/jobs with keyframes (`[time, image]`) and an `into_job`. */
async function post(f: JobForm, keyframes: [number | string, string][] = [], into?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = jobForm(f);
  keyframes.forEach(([time, image], n) => {
    form.append(`keyframe_${n}_time`, String(time));
    form.append(`keyframe_${n}`, fileBlob(image, 'image/png'), `later-${n}.png`);
  });
  if (into) form.append('into_job', into);
  const res = await fetch(new URL('/api/jobs', base), { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function assertOneLine(body: Record<string, unknown>, message: RegExp): void {
  const error = String(body.error);
  assert.match(error, message);
  assert.doesNotMatch(error, /\n/, 'one line');
  assert.ok(!error.includes(ws.dir) && !/\/(tmp|jobs)\//.test(error), `no server path: ${error}`);
}

describe('keyframes', () => {
  test('a keyframe reaches the edit (the result is editVideo\'s with it), is listed with its image, and the estimate counts its block', async () => {
    // Blocks of 6 (overlap 3): the keyframe at frame 8 (0.66 s: the first frame at or after it) cuts 16 frames into
    // two spans of 2 blocks each, where 16 frames alone take 5.
    const options = { ...FAST, 'block-frames': 6 };
    const created = await post({ video: clip, editedFrame: edited, options }, [[0.66, blue]]);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body.id);
    const job = await waitFinished(base, id);
    assert.equal(job.status, 'done', JSON.stringify(job));
    const { body } = await getJson(base, `/api/jobs/${id}`);
    const keyframes = body.keyframes as { time: number; url: string }[];
    assert.deepEqual(keyframes.map((k) => k.time), [0.66]);
    const image = await sharp(Buffer.from(await (await fetch(new URL(keyframes[0].url, base))).arrayBuffer())).metadata();
    assert.deepEqual([image.format, image.width, image.height], ['png', 200, 120]);
    assert.equal(body.into_job, null);

    const served = ws.file('keyed-served.mp4');
    writeFileSync(served, Buffer.from(await (await fetch(new URL(`/api/jobs/${id}/result`, base))).arrayBuffer()));
    const direct = ws.file('keyed-direct.mp4');
    await editVideo({
      video: clip, editedFrame: edited, output: direct, model: ws.model, method: FAST, blockFrames: 6, keyframe: [{ time: 0.66, image: blue }],
    });
    assert.ok((await decodeRgb(served)).equals(await decodeRgb(direct)), 'the worker ran editVideo with the keyframe');

    const q = (keys: string) => `/api/estimate?frames=16&width=200&height=120&fps=12&options=${encodeURIComponent(JSON.stringify(options))}${keys}`;
    const withKey = await getJson(base, q('&keyframes=0.66'));
    const without = await getJson(base, q(''));
    assert.equal(withKey.status, 200, JSON.stringify(withKey.body));
    assert.equal((body.result as { blocks: number }).blocks, 4);
    assert.deepEqual([withKey.body.blocks, without.body.blocks], [4, 5], 'the estimate plans the blocks the job ran');
    await getJson(base, `/api/jobs/${id}`, { method: 'DELETE' });
  });

  test('a keyframe past the end, two in one overlap, a time without its image: 400, one line, before queueing', async () => {
    let r = await post({ video: clip, editedFrame: edited, options: FAST }, [[5, blue]]);
    assert.equal(r.status, 400);
    assertOneLine(r.body, /^keyframe: "5=keyframe_0": 5 s is past the last frame \(at 1\.250 s\)/);
    assert.equal(r.body.field, 'keyframe');
    r = await post({ video: clip, editedFrame: edited, options: FAST }, [[0.5, blue], [0.59, blue]]);
    assert.equal(r.status, 400);
    assertOneLine(r.body, /keyframe_1.*frame 8 is 2 frames after the keyframe before it; keyframes start blocks and must be at least \d+ frames apart/);
    const estimate = await getJson(base, `/api/estimate?frames=16&width=200&height=120&fps=12&options=%7B%7D&keyframes=5`);
    assert.equal(estimate.status, 400);
    assertOneLine(estimate.body, /past the last frame/);
    const form = jobForm({ video: clip, editedFrame: edited });
    form.append('keyframe_0_time', '0.5');
    const res = await fetch(new URL('/api/jobs', base), { method: 'POST', body: form });
    assert.equal(res.status, 400);
    assertOneLine((await res.json()) as Record<string, unknown>, /^keyframe_0_time is given without its image/);
    r = await post({ video: clip, editedFrame: edited }, [['soon', blue]]);
    assert.equal(r.status, 400);
    assertOneLine(r.body, /^keyframe_0 needs its time in the source/);
    assert.deepEqual((await getJson(base, '/api/jobs')).body.jobs, [], 'nothing was queued');
  });
});

describe('into_job: a section re-rendered into an earlier result', () => {
  test('refused: another video, no start, no such job; accepted: only the frames in the section change', async () => {
    const first = await post({ video: clip, editedFrame: edited, options: FAST });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const earlier = String(first.body.id);
    assert.equal((await waitFinished(base, earlier)).status, 'done');

    const other = await makeVideo(ws.file('other.mp4'), { frames: 16, fps: 24 });
    const otherFrame = await firstFrame(other, ws.file('other.png'));
    let r = await post({ video: other, editedFrame: otherFrame, options: { ...FAST, start: 0.25 } }, [], earlier);
    assert.equal(r.status, 400);
    assertOneLine(r.body, /^into_job: job [0-9a-f]{16} edited another video \(clip\.mp4\): a section goes into a result of this same video/);
    r = await post({ video: clip, editedFrame: edited, options: FAST }, [], earlier);
    assert.equal(r.status, 400);
    assertOneLine(r.body, /^into_job re-renders a section: give its start/);
    r = await post({ video: clip, editedFrame: edited, options: { ...FAST, start: 0.5 } }, [], '0123456789abcdef');
    assert.equal(r.status, 400);
    assertOneLine(r.body, /^into_job: no such job/);

    // The section 0.5 s … the end (frames 6–15), re-edited from a very different frame with another seed.
    const section = await post({ video: clip, editedFrame: blue, options: { steps: 2, seed: 9, start: 0.5, duration: 1 } }, [], earlier);
    assert.equal(section.status, 201, JSON.stringify(section.body));
    const id = String(section.body.id);
    const done = await waitFinished(base, id);
    assert.equal(done.status, 'done', JSON.stringify(done));
    const { body } = await getJson(base, `/api/jobs/${id}`);
    assert.equal(body.into_job, earlier);
    for (const w of body.warnings as string[]) assert.ok(!w.includes(ws.dir), `no server path in a warning: ${w}`);

    const before = await decodeRgb(await download(earlier, 'before.mp4'));
    const after = await decodeRgb(await download(id, 'after.mp4'));
    const frame = 200 * 120 * 3;
    assert.equal(after.length, before.length, 'the whole video, not the section');
    const diff = (i: number) => {
      let sum = 0;
      for (let p = i * frame; p < (i + 1) * frame; p++) sum += Math.abs(before[p] - after[p]);
      return sum / frame;
    };
    const outside = [0, 1, 2, 3, 4, 5].map(diff);
    const inside = [9, 10, 11, 12, 13, 14, 15].map(diff);
    // Outside: the earlier result's frames, re-encoded once (H.264 at the default quality: a mean of 1.7–2.4 levels on
    // this small noisy toy output); inside: the new edit.
    assert.ok(Math.max(...outside) < 3.5, `outside the section: ${outside.map((d) => d.toFixed(2))}`);
    assert.ok(Math.min(...inside) > 2 * Math.max(...outside, 0.5), `inside: ${inside.map((d) => d.toFixed(2))}, outside: ${outside.map((d) => d.toFixed(2))}`);
  });
});

async function download(id: string, name: string): Promise<string> {
  const file = ws.file(name);
  writeFileSync(file, Buffer.from(await (await fetch(new URL(`/api/jobs/${id}/result`, base))).arrayBuffer()));
  return file;
}
