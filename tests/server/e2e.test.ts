/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The web app end to end in Debian's Chromium (playwright-core with executablePath, headless, no browser download)
 * against a real server on 127.0.0.1 with the toy model (--model toy; the tiny random one for the restart and token tests): upload → a brush stroke, an erased stroke, an inserted
 * image, undo/redo → "download frame" holds exactly those edits → render → live progress seen → the result plays →
 * its download equals the API's result; cancel from the job list; every other tool; the history after a restart; keyframes
 * and a section re-rendered into a result. VIDEOSHOP_SCREENSHOTS=<dir> also saves screenshots
 * (docs/screenshots is made that way).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { toyModelFolder } from '../../src/models/toy.js';
import type { RunningServer } from '../../src/server/server.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { createWorkspace, firstFrame, makeVideo, type Workspace } from '../edit/fixtures.js';
import { getJson, postJob, readEvents, startTestServer, waitFinished } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.VIDEOSHOP_SCREENSHOTS;

let ws: Workspace;
let srv: RunningServer;
let browser: Browser;
let clip: string;
let long: string;
let sticker: string;

before(async () => {
  if (!existsSync(CHROMIUM)) return;
  // The page as `npm run setup` builds it (esbuild, well under a second).
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'web', 'build.mjs')], { stdio: 'ignore' });
  ws = createWorkspace('server-e2e');
  process.env.VIDEOSHOP_CACHE = ws.env.VIDEOSHOP_CACHE;
  process.env.HF_ENDPOINT = ws.env.HF_ENDPOINT;
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 16 });
  long = await makeVideo(ws.file('long.mp4'), { frames: 60 });
  sticker = ws.file('sticker.png');
  await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 0, g: 200, b: 0 } } }).png().toFile(sticker);
  srv = await startTestServer(ws.file('data'), 'toy');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--mute-audio'] });
});

after(async () => {
  await browser?.close();
  await srv?.close();
  ws?.remove();
});

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name) });
}

async function rgbAt(png: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 3;
  return [data[i], data[i + 1], data[i + 2]];
}

function near(a: number[], b: number[], tol: number): boolean {
  return a.every((v, i) => Math.abs(v - b[i]) <= tol);
}

/** A desktop page with the clip uploaded and its first frame in the editor; page errors are collected in `problems`. */
async function openClipInEditor(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, acceptDownloads: true });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await page.goto(srv.url);
  await page.waitForSelector('body[data-ready=true]');
  await page.setInputFiles('#video-input', clip);
  await page.waitForSelector('#editor-panel:not([hidden]) canvas');
  return { page, problems };
}

/** A mouse stroke through `points` in the frame's pixels (the 200-pixel-wide clip), at the editor's zoom. */
async function strokeOnFrame(page: Page, points: [number, number][]): Promise<void> {
  const box = (await page.locator('#canvas-host canvas').first().boundingBox())!;
  const zoom = box.width / 200;
  const at = (x: number, y: number) => ({ x: box.x + x * zoom, y: box.y + y * zoom });
  await page.mouse.move(at(...points[0]).x, at(...points[0]).y);
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(at(...p).x, at(...p).y, { steps: 4 });
  await page.mouse.up();
}

/** Render with 2 steps (set under the expert options): the new job's id, once it finished. */
async function renderTwoSteps(page: Page): Promise<string> {
  await page.click('#settings-form details summary');
  await page.fill('#opt-steps', '2');
  const count = await page.locator('.job').count();
  await page.click('#run');
  await page.waitForFunction((n) => document.querySelectorAll('.job').length > n, count);
  const id = (await page.getAttribute('.job', 'id'))!.replace(/^job-/, '');
  assert.equal((await waitFinished(srv.url, id)).status, 'done');
  return id;
}

/** Clicks "Download frame" and returns the PNG the browser saved. */
async function downloadFrame(page: Page): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-frame')]);
  return readFileSync((await download.path())!);
}

test('upload → brush, eraser, inserted image, undo/redo → render with live progress → the result plays and downloads as the API serves it; cancel', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 240_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 960 }, acceptDownloads: true });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await page.goto(srv.url);
  await page.waitForSelector('body[data-ready=true]');
  assert.match(await page.textContent('#upload-limit') ?? '', /up to 512 MB/);
  await page.waitForSelector('#server-status[data-state=ready]', { timeout: 30_000 });

  // A slow uplink (Chromium's throttling, 16 kB/s) makes the upload's progress visible.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 16_000 });
  await page.setInputFiles('#video-input', clip);
  await page.waitForFunction(() => /uploading clip\.mp4: \d+% of/.test(document.querySelector('#upload-progress .label')?.textContent ?? ''));
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.waitForSelector('#editor-panel:not([hidden]) canvas');
  assert.match(await page.textContent('#preview-info') ?? '', /200×120 · 16 frames · 12 fps/);
  const source = readFileSync(await firstFrame(clip, ws.file('source-frame.png')));
  const canvas = page.locator('#canvas-host canvas').first();
  const box = (await canvas.boundingBox())!;
  const zoom = box.width / 200;
  const at = (x: number, y: number) => ({ x: box.x + x * zoom, y: box.y + y * zoom });
  const stroke = async (points: [number, number][]) => {
    await page.mouse.move(at(...points[0]).x, at(...points[0]).y);
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(at(...p).x, at(...p).y, { steps: 4 });
    await page.mouse.up();
  };

  // Brush (the default tool, red): a stroke along the top.
  await stroke([[20, 12], [60, 12], [100, 12]]);
  // A second stroke at the bottom, then erased: the source's pixels come back.
  await stroke([[20, 100], [80, 100]]);
  await page.click('[data-tool=eraser]');
  await page.fill('#brush-size', '40');
  await page.dispatchEvent('#brush-size', 'input');
  await stroke([[10, 100], [50, 100], [90, 100]]);
  // An image layer, centred (80…120 × 40…80).
  await page.setInputFiles('#insert-image', sticker);
  await page.waitForFunction(() => !(document.getElementById('delete-layer') as HTMLButtonElement).disabled);
  // Before Render: the region that will change is tinted over the frame, with its share.
  await page.waitForFunction(() => document.body.dataset.region === 'local' && /The edit changes \d+% of the frame; outside the tinted region/.test(document.getElementById('region-info')?.textContent ?? ''));
  assert.ok(await page.isVisible('#canvas-host canvas.region-overlay'));
  await page.evaluate(() => document.getElementById('editor-panel')!.scrollIntoView({ block: 'start' }));
  await shot(page, 'editor.png');

  let frame = await downloadFrame(page);
  const meta = await sharp(frame).metadata();
  assert.deepEqual([meta.width, meta.height], [200, 120], 'the frame is exported at the video size');
  assert.ok(near(await rgbAt(frame, 60, 12), [224, 48, 30], 8), `brush stroke: ${await rgbAt(frame, 60, 12)}`);
  assert.ok(near(await rgbAt(frame, 100, 60), [0, 200, 0], 8), `inserted image: ${await rgbAt(frame, 100, 60)}`);
  for (const [x, y] of [[40, 100], [70, 100], [150, 60]] as const) {
    assert.deepEqual(await rgbAt(frame, x, y), await rgbAt(source, x, y), `source pixels at ${x},${y} (erased or untouched)`);
  }
  // Undo removes the image layer, redo brings it back.
  await page.click('#undo');
  frame = await downloadFrame(page);
  assert.deepEqual(await rgbAt(frame, 100, 60), await rgbAt(source, 100, 60), 'undo removed the image');
  await page.click('#redo');
  const sent = await downloadFrame(page);
  assert.ok(near(await rgbAt(sent, 100, 60), [0, 200, 0], 8), 'redo restored it');

  // Settings from the CLI: defaults shown, help texts; two steps for the test.
  assert.equal(await page.getAttribute('#opt-steps', 'placeholder'), '25');
  assert.match(await page.textContent('#advanced-options') ?? '', /steps of the full schedule/);
  // The Quality presets write the fields they stand for; setting one by hand unchecks them.
  await page.check('input[name=quality][value=best]');
  assert.equal(await page.inputValue('#opt-steps'), '50');
  await page.check('input[name=quality][value=preview]');
  assert.ok(await page.isChecked('#opt-preview'));
  await page.check('input[name=quality][value=standard]');
  await page.click('#settings-form details summary');
  await page.fill('#opt-steps', '2');
  assert.ok(!(await page.isChecked('input[name=quality][value=standard]')), 'a hand-set step count is no preset');
  // Before this server's first job, the estimate comes from the worker's test edit after loading.
  await page.waitForFunction(() => /Estimated time ≈ .*test edit at startup/.test(document.getElementById('estimate')?.textContent ?? ''), null, { timeout: 60_000 });
  await page.click('#run');
  await page.waitForSelector('.job');
  const id = (await page.getAttribute('.job', 'id'))!.replace(/^job-/, '');
  const statuses = new Set<string>();
  const titles = new Set<string>();
  let shown = false;
  for (let i = 0; i < 600; i++) {
    const text = await page.textContent(`#job-${id} .status`);
    if (text) statuses.add(text);
    titles.add(await page.title());
    if ((await page.getAttribute(`#job-${id}`, 'data-status')) === 'done') break;
    if (!shown && /^(invert|denoise) · step/.test(text ?? '')) {
      shown = true;
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, 'progress.png');
    }
    await page.waitForTimeout(50);
  }
  assert.equal(await page.getAttribute(`#job-${id}`, 'data-status'), 'done', [...statuses].join('\n'));
  const live = [...statuses].filter((s) => /^\w+ · step \d+\/\d+ · block \d\/\d · \d+%/.test(s));
  assert.ok(live.length >= 2, `live progress seen: ${[...statuses].join(' | ')}`);
  assert.ok([...titles].some((t) => /^\d+% · clip\.mp4 — Videoshop$/.test(t)), `progress in the tab title: ${[...titles].join(' | ')}`);
  // The job this page submitted opens in the result view by itself when done.
  await page.waitForSelector(`#result-panel:not([hidden])[data-job="${id}"]`);

  // The server got exactly the frame the editor exported.
  const received = Buffer.from(await (await fetch(new URL(`/api/jobs/${id}/edited.png`, srv.url))).arrayBuffer());
  const [a, b] = await Promise.all([sharp(received).removeAlpha().raw().toBuffer(), sharp(sent).removeAlpha().raw().toBuffer()]);
  assert.ok(a.equals(b), 'edited frame received == downloaded frame');

  await page.click(`#job-${id} button.open`);
  await page.waitForFunction(() => (document.getElementById('video-result') as HTMLVideoElement).readyState >= 2);
  await page.click('#play');
  await page.waitForFunction(() => {
    const r = document.getElementById('video-result') as HTMLVideoElement;
    const s = document.getElementById('video-source') as HTMLVideoElement;
    return r.currentTime > 0.3 && s.currentTime > 0.2;
  }, undefined, { timeout: 15_000 });
  await page.click('#play'); // pause
  await page.click('#mode-side');
  await page.evaluate(() => document.getElementById('result-panel')!.scrollIntoView({ block: 'start' }));
  await shot(page, 'result.png');
  await page.click('#mode-wipe');
  await shot(page, 'wipe.png');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-result')]);
  const downloaded = readFileSync((await download.path())!);
  const api = Buffer.from(await (await fetch(new URL(`/api/jobs/${id}/result`, srv.url))).arrayBuffer());
  assert.ok(downloaded.length > 1000 && downloaded.equals(api), 'the download is the API result, byte for byte');
  assert.equal(download.suggestedFilename(), 'clip-videoshop.mp4');

  // Cancel: a long job, stopped from its card.
  await page.setInputFiles('#video-input', long);
  await page.waitForFunction(() => /60 frames/.test(document.getElementById('preview-info')?.textContent ?? ''));
  await page.fill('#opt-steps', '');
  await page.click('#run');
  await page.waitForFunction((done) => [...document.querySelectorAll('.job')].some((j) => j.id !== done && (j as HTMLElement).dataset.status === 'running'), `job-${id}`);
  const second = (await page.locator('.job[data-status=running]').first().getAttribute('id'))!.replace(/^job-/, '');
  // Cancel asks first: dismissed, the job runs on; accepted, it stops.
  page.once('dialog', (d) => void d.dismiss());
  await page.click(`#job-${second} button.cancel`);
  await page.waitForTimeout(300);
  assert.equal(await page.getAttribute(`#job-${second}`, 'data-status'), 'running', 'a dismissed confirmation cancels nothing');
  page.once('dialog', (d) => {
    assert.match(d.message(), /Cancel the render of long\.mp4/);
    void d.accept();
  });
  await page.click(`#job-${second} button.cancel`);
  await page.waitForSelector(`#job-${second}[data-status=cancelled]`, { timeout: 30_000 });
  assert.equal((await waitFinished(srv.url, second)).status, 'cancelled');
  assert.deepEqual(problems, []);
});

test('editor tools: zoom, fill and recolour a region, colour picker, text layer, upload an edited frame (eraser still restores the source), paste an image', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 120_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 }, acceptDownloads: true });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(srv.url);
  await page.waitForSelector('body[data-ready=true]');
  await page.setInputFiles('#video-input', clip);
  await page.waitForSelector('#editor-panel:not([hidden]) canvas');
  const source = readFileSync(ws.file('source-frame.png'));
  const zoomLabel = async () => Number((await page.textContent('#zoom-label'))!.replace('%', ''));
  const fitted = await zoomLabel();
  await page.click('#zoom-in');
  assert.equal(await zoomLabel(), Math.round(fitted * 1.25));
  await page.click('#zoom-out');
  await page.click('#zoom-out');
  assert.ok(await zoomLabel() < fitted);
  await page.click('#zoom-fit');
  assert.equal(await zoomLabel(), fitted);

  // A viewport tall enough for the whole editor: mouse events only reach what is in view, and clicking a tool must not scroll.
  const box = (await page.locator('#canvas-host canvas').first().boundingBox())!;
  const zoom = box.width / 200;
  assert.ok(box.y >= 0 && box.y + box.height <= 1400, `the frame is in view: ${JSON.stringify(box)}`);
  const click = (x: number, y: number) => page.mouse.click(box.x + x * zoom, box.y + y * zoom);
  const setColor = (hex: string) => page.evaluate((v) => {
    const input = document.getElementById('color') as HTMLInputElement;
    input.value = v;
    input.dispatchEvent(new Event('input'));
  }, hex);

  // Picker: the colour input takes the frame's colour under the click.
  const [r, g, b] = await rgbAt(source, 50, 100);
  await page.click('[data-tool=picker]');
  await click(50, 100);
  const picked = await page.inputValue('#color');
  assert.ok(near([1, 3, 5].map((i) => Number.parseInt(picked.slice(i, i + 2), 16)), [r, g, b], 2), `picked ${picked} for ${[r, g, b]}`);

  // Fill: the uniform bar under the click becomes blue; the neighbouring bar is untouched.
  await setColor('#0000ff');
  await page.click('[data-tool=fill]');
  await click(15, 100);
  let frame = await downloadFrame(page);
  assert.deepEqual(await rgbAt(frame, 15, 100), [0, 0, 255]);
  assert.deepEqual(await rgbAt(frame, 50, 100), await rgbAt(source, 50, 100));
  // Recolour keeps each pixel's brightness: pure green (luma 150) recoloured white turns grey 150.
  await page.check('#recolour');
  await setColor('#ffffff');
  await click(50, 100);
  frame = await downloadFrame(page);
  const recoloured = await rgbAt(frame, 50, 100);
  assert.ok(near(recoloured, [150, 150, 150], 3), `recoloured by brightness: ${recoloured}`);

  // Text: a layer where clicked.
  await page.fill('#text-value', 'Hi');
  await setColor('#ffff00');
  await page.click('[data-tool=text]');
  await click(140, 20);
  assert.ok(!(await page.isDisabled('#delete-layer')), 'the text layer is selected');
  frame = await downloadFrame(page);
  let changed = 0;
  for (let y = 20; y < 50; y += 2) for (let x = 140; x < 180; x += 2) if (!near(await rgbAt(frame, x, y), await rgbAt(source, x, y), 30)) changed++;
  assert.ok(changed > 5, `text drawn (${changed} samples changed)`);

  // A frame edited elsewhere: refused at the wrong size, placed over the frame at the right one.
  const wrong = ws.file('wrong.png');
  await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ff00ff' } }).png().toFile(wrong);
  await page.setInputFiles('#upload-frame', wrong);
  await page.waitForSelector('#editor-hint.error');
  assert.match(await page.textContent('#editor-hint') ?? '', /100×100 but the video is 200×120/);
  const outside = ws.file('outside.png');
  await sharp({ create: { width: 200, height: 120, channels: 3, background: '#ff00ff' } }).png().toFile(outside);
  await page.setInputFiles('#upload-frame', outside);
  await page.click('[data-tool=eraser]');
  await page.waitForTimeout(200);
  await page.mouse.move(box.x + 20 * zoom, box.y + 60 * zoom);
  await page.mouse.down();
  await page.mouse.move(box.x + 30 * zoom, box.y + 60 * zoom, { steps: 3 });
  await page.mouse.up();
  frame = await downloadFrame(page);
  assert.deepEqual(await rgbAt(frame, 100, 100), [255, 0, 255], 'the uploaded frame covers the source');
  assert.deepEqual(await rgbAt(frame, 25, 60), await rgbAt(source, 25, 60), 'the eraser restores the source under it');

  // An image pasted from the clipboard becomes a layer too (a paste event as the browser fires it for Ctrl+V).
  await page.evaluate(async (png) => {
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data }));
  }, readFileSync(sticker).toString('base64'));
  await page.waitForFunction(() => !(document.getElementById('delete-layer') as HTMLButtonElement).disabled);
  frame = await downloadFrame(page);
  assert.ok(near(await rgbAt(frame, 100, 60), [0, 200, 0], 8), `pasted image in the middle: ${await rgbAt(frame, 100, 60)}`);
  assert.deepEqual(problems, []);
});

test('phone 390×844: nothing scrolls sideways, a finger drag draws where the finger went, two fingers zoom; the keyboard reaches every control and submits; themes', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, acceptDownloads: true, colorScheme: 'light' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(srv.url);
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'light', 'the system’s light theme is followed');
  await page.setInputFiles('#video-input', clip);
  await page.waitForSelector('#editor-panel:not([hidden]) canvas');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'no horizontal scrolling at 390 px');
  await shot(page, 'phone-editor.png');

  // A finger drag with the brush (CDP touch events, as a phone sends them): the line lies under the finger.
  const canvas = page.locator('#canvas-host canvas').first();
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const zoom = box.width / 200;
  const cdp = await context.newCDPSession(page);
  const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', points: [number, number][]) => cdp.send('Input.dispatchTouchEvent', {
    type, touchPoints: points.map(([x, y], id) => ({ x: box.x + x * zoom, y: box.y + y * zoom, id })),
  });
  await touch('touchStart', [[20, 60]]);
  for (let x = 30; x <= 180; x += 10) await touch('touchMove', [[x, 60]]);
  await touch('touchEnd', []);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-frame')]);
  const frame = readFileSync((await download.path())!);
  for (const x of [25, 100, 175]) assert.ok(near(await rgbAt(frame, x, 60), [224, 48, 30], 8), `the finger's line at x=${x}: ${await rgbAt(frame, x, 60)}`);
  // Two fingers apart: the frame zooms in, and no stroke is left behind.
  const before = Number((await page.textContent('#zoom-label'))!.replace('%', ''));
  await touch('touchStart', [[90, 30]]);
  await touch('touchStart', [[90, 30], [110, 30]]);
  for (let d = 20; d <= 60; d += 10) await touch('touchMove', [[100 - d, 30], [100 + d, 30]]);
  await touch('touchEnd', []);
  assert.ok(Number((await page.textContent('#zoom-label'))!.replace('%', '')) > before * 1.5, 'pinch zoomed in');
  await page.click('#undo');
  assert.ok(await page.isDisabled('#undo'), 'the pinch drew nothing: one undo empties the history');
  await page.click('#redo');

  // Keyboard only: Tab reaches the file pickers that live inside labels, and Enter on Render submits.
  const reached = new Set<string>();
  await page.focus('#theme-toggle'); // the top of the page
  for (let i = 0; i < 80 && !reached.has('run'); i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.id ?? ''));
  }
  for (const id of ['drop-zone', 'insert-image', 'upload-frame', 'download-frame', 'opt-strength', 'run']) assert.ok(reached.has(id), `Tab reaches #${id}: ${[...reached].join(' ')}`);
  const jobsBefore = await page.locator('.job').count();
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelectorAll('.job').length > n, jobsBefore);
  const id = (await page.getAttribute('.job', 'id'))!.replace(/^job-/, '');
  await fetch(new URL(`/api/jobs/${id}`, srv.url), { method: 'DELETE' });

  // The toggle: system → light → dark, remembered across a reload.
  await page.click('#theme-toggle');
  await page.click('#theme-toggle');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  await page.waitForSelector('body[data-draft=saved]');
  page.once('dialog', (d) => void d.accept()); // leaving with a drawing asks first
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  // The drawing came back with the reload (IndexedDB), over the same source frame.
  await page.waitForSelector('#editor-panel:not([hidden]) canvas');
  assert.match(await page.textContent('#upload-error') ?? '', /Restored your unfinished edit of clip\.mp4/);
  const [again] = await Promise.all([page.waitForEvent('download'), page.click('#download-frame')]);
  const restored = readFileSync((await again.path())!);
  assert.ok(near(await rgbAt(restored, 100, 60), [224, 48, 30], 8), `the finger's line survived the reload: ${await rgbAt(restored, 100, 60)}`);
  assert.deepEqual(await rgbAt(restored, 100, 100), await rgbAt(frame, 100, 100), 'the source around it');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the sample video to start from; the server goes away: a banner, Render paused with a message in words; it comes back: the banner goes', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 90_000 }, async () => {
  let down = await startTestServer(ws.file('data-down'), ws.model);
  const port = Number(new URL(down.url).port);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(down.url);
    await page.waitForSelector('body[data-ready=true]');
    // Onboarding: the empty page offers the shipped sample and an edit to try.
    await shot(page, 'empty.png');
    await page.click('#try-sample');
    await page.waitForSelector('#settings-panel:not([hidden])');
    assert.match(await page.textContent('#preview-info') ?? '', /sample\.mp4 · 320×192 · 36 frames · 12 fps/);
    assert.match(await page.textContent('#editor-hint') ?? '', /Try this: choose Fill, tick Recolour/);
    // Nothing edited yet: said before Render, not after.
    await page.waitForSelector('#precheck:not([hidden])');
    assert.match(await page.textContent('#precheck') ?? '', /looks the same as the video's first frame/);
    await down.close();
    await page.waitForSelector('#offline-banner:not([hidden])', { timeout: 15_000 });
    await shot(page, 'server-down.png');
    await page.evaluate(() => (document.getElementById('settings-form') as HTMLFormElement).requestSubmit());
    assert.match(await page.textContent('#run-error') ?? '', /server cannot be reached/);
    assert.doesNotMatch(await page.textContent('body') ?? '', /Failed to fetch/);
    down = await startTestServer(ws.file('data-down'), ws.model, { port });
    await page.waitForSelector('#offline-banner', { state: 'hidden', timeout: 15_000 });
  } finally {
    await page.close();
    await down.close();
  }
});

test('the job history survives a server restart: jobs, thumbnails, and the result opens', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 60_000 }, async () => {
  const before = (await (await fetch(new URL('/api/jobs', srv.url))).json() as { jobs: { id: string; status: string; video: { frames: number } }[] }).jobs;
  assert.ok(before.some((j) => j.status === 'done'), 'the first test left a finished job');
  // A job the restart cuts off: it goes back to the queue, and its card says why it starts over.
  const cut = (await postJob(srv.url, { video: long, editedFrame: await firstFrame(long, ws.file('long-frame.png')) })).body.id as string;
  await readEvents(srv.url, cut, (j) => j.status === 'running');
  await srv.close();
  srv = await startTestServer(ws.file('data'), ws.model);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(srv.url);
  await page.waitForSelector('body[data-ready=true]');
  assert.match(await page.textContent(`#job-${cut} .requeued`) ?? '', /the server was restarted while this job ran: it starts over/);
  await shot(page, 'desktop-requeued-after-restart.png');
  await fetch(new URL(`/api/jobs/${cut}`, srv.url), { method: 'DELETE' });
  for (const job of before) await page.waitForSelector(`#job-${job.id}[data-status=${job.status}]`);
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.job img.thumb')].every((i) => i.complete && i.naturalWidth > 0));
  const done = before.find((j) => j.status === 'done')!;
  await page.click(`#job-${done.id} button.open`);
  await page.waitForFunction(() => (document.getElementById('video-result') as HTMLVideoElement).readyState >= 2);

  // Edit again: the job's source and edited frame in the editor, its settings (2 steps) in the form.
  await page.click(`#job-${done.id} button.edit-again`);
  await page.waitForSelector('#editor-panel:not([hidden]) canvas');
  assert.equal(await page.inputValue('#opt-steps'), '2');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-frame')]);
  const frame = readFileSync((await download.path())!);
  assert.ok(near(await rgbAt(frame, 60, 12), [224, 48, 30], 8), `the job's brush stroke is back: ${await rgbAt(frame, 60, 12)}`);
  // Reuse settings from the cancelled long job (default steps), Retry it: a new job with the same source.
  const cancelled = before.find((j) => j.status === 'cancelled' && j.video.frames === 60)!;
  await page.click(`#job-${cancelled.id} button.reuse`);
  assert.equal(await page.inputValue('#opt-steps'), '');
  const count = await page.locator('.job').count();
  await page.click(`#job-${cancelled.id} button.retry`);
  await page.waitForFunction((n) => document.querySelectorAll('.job').length > n, count);
  const retried = (await page.getAttribute('.job', 'id'))!.replace(/^job-/, '');
  const job = await getJson(srv.url, `/api/jobs/${retried}`);
  assert.equal((job.body.video as { frames: number }).frames, 60);
  await fetch(new URL(`/api/jobs/${retried}`, srv.url), { method: 'DELETE' });
});

test('with a token, the printed link logs the browser in (cookie) and the page works; without it, 401', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 60_000 }, async () => {
  const token = 'e2e-token-0123456789abcdef';
  const guarded = await startTestServer(ws.file('data-token'), ws.model, { token });
  try {
    const page = await browser.newPage();
    const denied = await page.goto(guarded.url);
    assert.equal(denied?.status(), 401);
    await page.goto(`${guarded.url}?token=${token}`);
    assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
    await page.waitForSelector('body[data-ready=true]');
    await page.waitForSelector('#server-status[data-state=ready]', { timeout: 30_000 });
    const cookies = await page.context().cookies();
    assert.ok(cookies.some((c) => c.name === 'videoshop_token' && c.httpOnly && c.sameSite === 'Strict'));
    await page.context().clearCookies();
  } finally {
    await guarded.close();
  }
});

test('keyframes: "Add keyframe here" adds a later frame to edit, the strip switches between them and keeps each drawing, Render sends both; the result re-renders a section into itself', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 180_000 }, async () => {
  const { page, problems } = await openClipInEditor();
  const stroke = (points: [number, number][]) => strokeOnFrame(page, points);
  // The first frame: a red stroke along the top.
  await page.evaluate(() => document.getElementById('editor-panel')!.scrollIntoView({ block: 'start' }));
  await stroke([[20, 12], [100, 12]]);

  // The timeline at 0.75 s (frame 9), "Add keyframe here": that frame in the editor, the strip shows both.
  await page.evaluate(() => {
    const t = document.getElementById('timeline') as HTMLInputElement;
    t.value = '0.75';
    t.dispatchEvent(new Event('input'));
  });
  await page.click('#add-keyframe');
  await page.waitForSelector('#keyframe-strip:not([hidden]) .key:nth-child(2).active');
  assert.match(await page.textContent('#editor-title') ?? '', /Edit the keyframe at 0\.75 s/);
  assert.ok(await page.locator('#tools [data-tool="mark-keep"]').isHidden(), 'region marks belong to the first frame');
  assert.deepEqual(await page.locator('#keyframe-strip .key').evaluateAll((keys) => keys.map((k) => (k as HTMLElement).dataset.time)), ['0.000', '0.750']);
  let frame = await downloadFrame(page);
  const untouched = await rgbAt(frame, 60, 100);
  // The keyframe: a green stroke along the bottom.
  await page.evaluate(() => {
    const input = document.getElementById('color') as HTMLInputElement;
    input.value = '#00c800';
    input.dispatchEvent(new Event('input'));
  });
  await page.evaluate(() => document.getElementById('editor-panel')!.scrollIntoView({ block: 'start' }));
  await stroke([[20, 100], [100, 100]]);
  await shot(page, 'keyframes.png');
  frame = await downloadFrame(page);
  assert.ok(near(await rgbAt(frame, 60, 100), [0, 200, 0], 8), `the keyframe's stroke: ${await rgbAt(frame, 60, 100)}`);
  assert.ok(!near(await rgbAt(frame, 60, 12), [224, 48, 30], 30), `the first frame's stroke is not on the keyframe: ${await rgbAt(frame, 60, 12)}`);

  // Back to the first frame: its own stroke, not the keyframe's; and back again.
  await page.click('#keyframe-strip .key:nth-child(1) .pick');
  await page.waitForFunction(() => document.getElementById('editor-title')?.textContent === 'Edit the first frame');
  frame = await downloadFrame(page);
  assert.ok(near(await rgbAt(frame, 60, 12), [224, 48, 30], 8), `the first frame's stroke is kept: ${await rgbAt(frame, 60, 12)}`);
  assert.ok(!near(await rgbAt(frame, 60, 100), [0, 200, 0], 30), `no keyframe stroke on the first frame: ${await rgbAt(frame, 60, 100)} (source ${untouched})`);
  // The estimate plans the keyframe's block.
  await page.waitForFunction(() => /block/.test(document.getElementById('estimate')?.textContent ?? ''));

  // Render: the job gets the first frame and the keyframe, each as drawn.
  const id = await renderTwoSteps(page);
  const job = (await getJson(srv.url, `/api/jobs/${id}`)).body as { keyframes: { time: number; url: string }[] };
  assert.deepEqual(job.keyframes.map((k) => k.time), [0.75]);
  const sentKey = Buffer.from(await (await fetch(new URL(job.keyframes[0].url, srv.url))).arrayBuffer());
  assert.ok(near(await rgbAt(sentKey, 60, 100), [0, 200, 0], 8), `the keyframe as drawn was sent: ${await rgbAt(sentKey, 60, 100)}`);
  const sentFirst = Buffer.from(await (await fetch(new URL(`/api/jobs/${id}/edited.png`, srv.url))).arrayBuffer());
  assert.ok(near(await rgbAt(sentFirst, 60, 12), [224, 48, 30], 8), 'the first frame as drawn was sent');
  await page.waitForSelector(`#job-${id} .into`);
  assert.match(await page.textContent(`#job-${id} .into`) ?? '', /1 keyframe \(0\.75 s\)/);

  // The result view: "Re-render a section…" 0.5 s for 1 s, another variation: a job into this one's result.
  await page.waitForSelector(`#result-panel:not([hidden])[data-job="${id}"]`);
  await page.click('#rerender-section');
  await page.fill('#rerender-start', '0.5');
  await page.fill('#rerender-duration', '1');
  await page.evaluate(() => document.getElementById('result-panel')!.scrollIntoView({ block: 'start' }));
  await shot(page, 'rerender.png');
  const before = await page.locator('.job').count();
  await page.click('#rerender-run');
  await page.waitForFunction((n) => document.querySelectorAll('.job').length > n, before);
  const section = (await page.getAttribute('.job', 'id'))!.replace(/^job-/, '');
  assert.match(await page.textContent(`#job-${section} .into`) ?? '', new RegExp(`^Section re-render \\(0\\.50–1\\.50 s\\) of job ${id.slice(0, 6)}`));
  const done = await waitFinished(srv.url, section);
  assert.equal(done.status, 'done', JSON.stringify(done));
  const body = (await getJson(srv.url, `/api/jobs/${section}`)).body as { into_job: string; options: Record<string, unknown>; result: { frames: number } };
  assert.equal(body.into_job, id);
  assert.deepEqual([body.options.start, body.options.duration, body.result.frames], [0.5, 1, 16]);
  assert.notEqual(body.options.seed, undefined, 'another variation: a seed');
  await page.waitForSelector(`#result-panel[data-job="${section}"]`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'rerender-job.png');
  assert.deepEqual(problems, []);
  await page.close();
});

test('region marks: the tinted region before Render, "Protect" takes a stroke out of it and "Region +" adds a patch; the marks are not in the frame, the job gets them as masks; the result view shows its per-frame mask; Edit again brings the marks back', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 180_000 }, async () => {
  const { page, problems } = await openClipInEditor();
  await page.evaluate(() => document.getElementById('editor-panel')!.scrollIntoView({ block: 'start' }));
  const stroke = (points: [number, number][]) => strokeOnFrame(page, points);
  const regionText = async (not: string) => {
    await page.waitForFunction((t) => { const s = document.getElementById('region-info')?.textContent ?? ''; return s !== '' && s !== t; }, not);
    return (await page.textContent('#region-info'))!;
  };
  // A red stroke along the top: the region is about it.
  await stroke([[20, 12], [100, 12]]);
  const edited = await regionText('');
  assert.match(edited, /The edit changes \d+% of the frame/);
  // Protect over its right half, and a Region + patch far away (keyboard: P, R).
  await page.click('#tools [data-tool="mark-keep"]');
  assert.match(await page.textContent('#editor-hint') ?? '', /Protect paints over what must stay exactly/);
  await page.evaluate(() => { (document.getElementById('brush-size') as HTMLInputElement).value = '30'; document.getElementById('brush-size')!.dispatchEvent(new Event('input')); });
  await stroke([[62, 12], [110, 12]]);
  await page.keyboard.press('r');
  assert.equal(await page.getAttribute('#tools [data-tool="mark-add"]', 'class'), 'mark-tool active');
  await stroke([[160, 90], [180, 90]]);
  await regionText(edited);
  await shot(page, 'region-marks.png');
  // The frame as exported has the red stroke, not the marks' colours.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-frame')]);
  const frame = readFileSync((await download.path())!);
  assert.ok(near(await rgbAt(frame, 80, 12), [224, 48, 30], 8), `the stroke under the Protect mark: ${await rgbAt(frame, 80, 12)}`);
  const source = readFileSync(await firstFrame(clip, ws.file('marks-source.png')));
  assert.deepEqual(await rgbAt(frame, 170, 90), await rgbAt(source, 170, 90), 'no Region + colour in the frame');

  // Render: the job carries both marks, white where drawn.
  const id = await renderTwoSteps(page);
  const job = (await getJson(srv.url, `/api/jobs/${id}`)).body as { marks: { mask: string; keep_mask: string } };
  const get = async (url: string) => Buffer.from(await (await fetch(new URL(url, srv.url))).arrayBuffer());
  const [keep, add] = [await get(job.marks.keep_mask), await get(job.marks.mask)];
  assert.deepEqual([(await rgbAt(keep, 80, 12))[0], (await rgbAt(keep, 40, 12))[0], (await rgbAt(keep, 170, 90))[0]], [255, 0, 0], 'Protect: over the right half');
  assert.deepEqual([(await rgbAt(add, 170, 90))[0], (await rgbAt(add, 80, 12))[0]], [255, 0], 'Region +: the far patch');
  // The result view: "Mask" plays the per-frame masks in the result's place; they download too.
  await page.waitForSelector(`#result-panel:not([hidden])[data-job="${id}"]`);
  await page.click('#mode-mask');
  await page.waitForFunction(() => /\/masks$/.test(document.querySelector<HTMLVideoElement>('#video-result')!.src));
  assert.match(await page.textContent('#result-caption') ?? '', /^Mask/);
  assert.equal(await page.getAttribute('#download-masks', 'href'), `/api/jobs/${id}/masks?download=1`);
  await page.evaluate(() => document.getElementById('result-panel')!.scrollIntoView({ block: 'start' }));
  await shot(page, 'result-mask.png');
  await page.click('#mode-side');
  await page.waitForFunction(() => /\/result$/.test(document.querySelector<HTMLVideoElement>('#video-result')!.src));

  // Edit again: the frame and both marks come back (as the job's masks); Render sends them as they were.
  await page.click(`#job-${id} button:has-text("Edit again")`);
  await page.waitForSelector('#canvas-host[data-marks-restored="2"]');
  const again = await page.locator('.job').count();
  await page.click('#run');
  await page.waitForFunction((n) => document.querySelectorAll('.job').length > n, again);
  const id2 = (await page.getAttribute('.job', 'id'))!.replace(/^job-/, '');
  assert.notEqual(id2, id);
  const job2 = (await getJson(srv.url, `/api/jobs/${id2}`)).body as { marks: { mask: string; keep_mask: string } };
  const [keep2, add2] = [await get(job2.marks.keep_mask), await get(job2.marks.mask)];
  assert.ok((await sharp(keep2).raw().toBuffer()).equals(await sharp(keep).raw().toBuffer()), 'the same Protect mask');
  assert.ok((await sharp(add2).raw().toBuffer()).equals(await sharp(add).raw().toBuffer()), 'the same Region + mask');
  await waitFinished(srv.url, id2);
  assert.deepEqual(problems, []);
  await page.close();
});

/**
 * WCAG AA contrast of every visible text in the page, both themes: 4.5:1, 3:1 for large text (24 px, or 18.66 px
 * bold). The colours are the computed ones, the background the nearest opaque one behind the text with translucent
 * layers laid over it; text over an image or a video, disabled controls (WCAG exempts them) and hidden text are left
 * out. The check in the page's own terms (no axe: nothing to download).
 */
test('contrast: every visible text at least 4.5:1 (3:1 large) against its background, in dark and in light', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 120_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  await page.goto(srv.url);
  await page.waitForSelector('body[data-ready=true]');
  await page.setInputFiles('#video-input', clip);
  await page.waitForSelector('#editor-panel:not([hidden]) canvas');
  await page.click('#settings-form details summary');
  // tsx names the functions inside page.evaluate's callback with its __name helper, which the page lacks.
  await page.evaluate('window.__name = (f) => f');
  const failures: string[] = [];
  for (const theme of ['dark', 'light']) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    const found = await page.evaluate(() => {
      type C = { rgb: number[]; a: number };
      const parse = (s: string): C | null => {
        const m = /rgba?\(([^)]+)\)/.exec(s);
        if (!m) return null;
        const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
        return { rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1 };
      };
      const over = (top: C, under: number[]) => top.rgb.map((v, i) => v * top.a + under[i] * (1 - top.a));
      const lum = (rgb: number[]) => {
        const [r, g, b] = rgb.map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      /** The colour behind `el`: its backgrounds up to the first opaque one, composed; null over an image or video. */
      const background = (el: Element): number[] | null => {
        const layers: C[] = [];
        for (let e: Element | null = el; e; e = e.parentElement) {
          const cs = getComputedStyle(e);
          if (cs.backgroundImage !== 'none' || e.tagName === 'FIGURE') return null;
          const c = parse(cs.backgroundColor);
          if (c && c.a > 0) {
            layers.push(c);
            if (c.a >= 1) break;
          }
        }
        let rgb = [255, 255, 255];
        for (const c of layers.reverse()) rgb = over(c, rgb);
        return rgb;
      };
      const out: string[] = [];
      for (const el of document.querySelectorAll('body *')) {
        const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim() !== '');
        if (own.length === 0 || el.getClientRects().length === 0) continue;
        if (el.closest('[hidden], :disabled, .visually-hidden, video, canvas')) continue;
        const cs = getComputedStyle(el);
        if (cs.visibility !== 'visible') continue;
        let faded = false;
        for (let e: Element | null = el; e; e = e.parentElement) if (Number(getComputedStyle(e).opacity) < 1) faded = true;
        if (faded) continue;
        const bg = background(el);
        const fg = parse(cs.color);
        if (!bg || !fg) continue;
        const text = over(fg, bg);
        const [a, b] = [lum(text), lum(bg)];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        const size = parseFloat(cs.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
        if (ratio < (large ? 3 : 4.5)) {
          const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''}`;
          out.push(`${name} "${own[0].textContent!.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1 (${cs.color} on rgb(${bg.map(Math.round).join(', ')}))`);
        }
      }
      return out;
    });
    failures.push(...found.map((f) => `${theme}: ${f}`));
  }
  assert.deepEqual(failures, []);
  await page.close();
});

test('Quality presets in the server\'s terms: on a few-step AnimateLCM UNet "Standard" is its 8 steps and "Best" is not offered', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}`, timeout: 120_000 }, async () => {
  // The toy UNet under an AnimateLCM file name: the server's sampler follows the name (auto), as with the real file.
  const unet = ws.file('AnimateLCM-toy.safetensors');
  symlinkSync(path.join(toyModelFolder(), 'unet', 'diffusion_pytorch_model.safetensors'), unet);
  const lcm = await startTestServer(ws.file('data-lcm'), 'toy', { worker: { model: 'toy', unet, device: 'cpu', calibrate: false } });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const bestOffered = (p: Page) => p.evaluate(() => !document.querySelector('input[name=quality][value=best]')!.closest('label')!.hidden);
  try {
    await page.goto(lcm.url);
    await page.waitForSelector('body[data-ready=true]');
    // Loaded before the server closes (a close during the load waits for it).
    await page.waitForSelector('#server-status[data-state=ready]', { timeout: 30_000 });
    assert.match(await page.textContent('input[name=quality][value=standard] + span small') ?? '', /^AnimateLCM's 8 steps/);
    assert.equal(await bestOffered(page), false, 'no Best on AnimateLCM');
  } finally {
    await page.close();
    await lcm.close();
  }
  // On SVD's sampler (the shared server, toy): the usual steps, and Best twice them.
  const svd = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await svd.goto(srv.url);
  await svd.waitForSelector('body[data-ready=true]');
  assert.match(await svd.textContent('input[name=quality][value=standard] + span small') ?? '', /^the model's usual 25 steps/);
  assert.equal(await bestOffered(svd), true);
  await svd.close();
});
