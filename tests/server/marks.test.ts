/**
 * The regions a user marks on the first frame, handed over to the server (file fields `mask`: edited, `keep_mask`:
 * unedited; white where marked): the region preview before Render follows them, a job carries them to the edit (its
 * result equals editVideo's with `mask` and `keepMask`), the job lists them and serves its per-frame masks (a video, as
 * `mask-out` writes it), and a mark of the wrong size is a
 * one-line 400 naming no server path.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { editVideo } from '../../src/edit/edit-video.js';
import type { RunningServer } from '../../src/server/server.js';
import { createWorkspace, decodeRgb, firstFrame, makeVideo, type Workspace } from '../edit/fixtures.js';
import { fileBlob, getJson, jobForm, startTestServer, waitFinished } from './helpers.js';

let ws: Workspace;
let srv: RunningServer;
let clip: string;
let edited: string;
let keepLeft: string;
let addFar: string;
let small: string;

/** A white-on-black mark of `width`×`height` with the box x0…x1, y0…y1 white. */
async function mark(file: string, box: [number, number, number, number], width = 200, height = 120): Promise<string> {
  const data = Buffer.alloc(width * height);
  const [x0, y0, x1, y1] = box;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * width + x] = 255;
  await sharp(data, { raw: { width, height, channels: 1 } }).png().toFile(file);
  return file;
}

before(async () => {
  ws = createWorkspace('server-marks');
  process.env.VIDEOSHOP_CACHE = ws.env.VIDEOSHOP_CACHE;
  process.env.HF_ENDPOINT = ws.env.HF_ENDPOINT;
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 16 });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true }); // a red box at 40…100 × 30…70 of 200×120
  keepLeft = await mark(ws.file('keep-left.png'), [0, 0, 70, 120]); // the box's left half marked unedited
  addFar = await mark(ws.file('add-far.png'), [150, 80, 190, 110]); // a patch far from it marked edited
  small = await mark(ws.file('small.png'), [0, 0, 10, 10], 50, 30);
  srv = await startTestServer(ws.file('data'), ws.model, { worker: { model: ws.model, device: 'cpu', calibrate: false } });
});

after(async () => {
  await srv?.close();
  ws?.remove();
});

test('the region preview follows the marks: the kept half of the edit is out, the added patch is in; a mark of another size is refused', async () => {
  const form = new FormData();
  form.append('video', fileBlob(clip, 'video/mp4'), 'clip.mp4');
  const upload = await getJson(srv.url, '/api/uploads', { method: 'POST', body: form });
  assert.equal(upload.status, 201, JSON.stringify(upload.body));
  const region = async (marks: Record<string, string>) => {
    const f = new FormData();
    f.append('edited_frame', fileBlob(edited, 'image/png'), 'edited.png');
    for (const [field, file] of Object.entries(marks)) f.append(field, fileBlob(file, 'image/png'), `${field}.png`);
    return getJson(srv.url, `/api/uploads/${String(upload.body.id)}/region`, { method: 'POST', body: f });
  };
  const maskAt = async (body: Record<string, unknown>) => {
    const m = await sharp(Buffer.from(String(body.mask_png), 'base64')).raw().toBuffer({ resolveWithObject: true });
    return (x: number, y: number) => m.data[(Math.round(y * m.info.height / 120) * m.info.width + Math.round(x * m.info.width / 200)) * m.info.channels];
  };
  const plain = await region({});
  assert.equal(plain.status, 200, JSON.stringify(plain.body));
  let at = await maskAt(plain.body);
  assert.deepEqual([at(50, 50), at(90, 50), at(170, 95)], [255, 255, 0]);
  const marked = await region({ mask: addFar, keep_mask: keepLeft });
  assert.equal(marked.status, 200, JSON.stringify(marked.body));
  at = await maskAt(marked.body);
  assert.deepEqual([at(50, 50), at(90, 50), at(170, 95)], [0, 255, 255], 'kept half out, right half in, added patch in');
  assert.equal(marked.body.looks_unedited, false);
  assert.ok(Number(marked.body.coverage) < Number(plain.body.coverage) * 1.5, 'the share follows the marks');

  const wrong = await region({ keep_mask: small });
  assert.equal(wrong.status, 400);
  assert.match(String(wrong.body.error), /^keep_mask is 50×30: it must have the video's size \(200×120\)$/);
});

test('a job carries the marks to the edit: its result equals editVideo with mask and keepMask; the job lists them and serves its masks', async () => {
  const options = { steps: 2, seed: 3 };
  const form = jobForm({ video: clip, editedFrame: edited, options });
  form.append('mask', fileBlob(addFar, 'image/png'), 'add.png');
  form.append('keep_mask', fileBlob(keepLeft, 'image/png'), 'keep.png');
  const res = await fetch(new URL('/api/jobs', srv.url), { method: 'POST', body: form });
  const created = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 201, JSON.stringify(created));
  const id = String(created.id);
  assert.equal((await waitFinished(srv.url, id)).status, 'done');
  const job = (await getJson(srv.url, `/api/jobs/${id}`)).body as { marks: { mask: string | null; keep_mask: string | null } };
  assert.ok(job.marks.mask && job.marks.keep_mask, JSON.stringify(job.marks));
  const served = Buffer.from(await (await fetch(new URL(job.marks.keep_mask, srv.url))).arrayBuffer());
  assert.ok((await sharp(served).raw().toBuffer()).equals(await sharp(keepLeft).raw().toBuffer()), 'the kept region as sent');

  // The per-frame masks beside the result: the video's length; on the first frame the kept half black, the rest of
  // the box white (H.264: within a few levels).
  const job2 = (await getJson(srv.url, `/api/jobs/${id}`)).body as { urls: { masks: string | null } };
  assert.equal(job2.urls.masks, `/api/jobs/${id}/masks`);
  const masks = ws.file('masks.mp4');
  writeFileSync(masks, Buffer.from(await (await fetch(new URL(job2.urls.masks!, srv.url))).arrayBuffer()));
  const m = await decodeRgb(masks);
  assert.equal(m.length, 16 * 200 * 120 * 3, 'one mask per frame');
  const grey = (x: number, y: number) => m[(y * 200 + x) * 3];
  assert.ok(grey(50, 50) < 40 && grey(90, 50) > 215 && grey(170, 95) > 215 && grey(10, 110) < 40, `mask: ${[grey(50, 50), grey(90, 50), grey(170, 95), grey(10, 110)]}`);

  const result = ws.file('served.mp4');
  writeFileSync(result, Buffer.from(await (await fetch(new URL(`/api/jobs/${id}/result`, srv.url))).arrayBuffer()));
  const direct = ws.file('direct.mp4');
  await editVideo({ video: clip, editedFrame: edited, output: direct, model: ws.model, steps: 2, seed: 3, mask: addFar, keepMask: keepLeft });
  assert.ok((await decodeRgb(result)).equals(await decodeRgb(direct)), 'the server ran editVideo with the marks');
  const unmarked = ws.file('unmarked.mp4');
  await editVideo({ video: clip, editedFrame: edited, output: unmarked, model: ws.model, steps: 2, seed: 3 });
  assert.ok(!(await decodeRgb(unmarked)).equals(await decodeRgb(direct)), 'the marks changed the result');
});
