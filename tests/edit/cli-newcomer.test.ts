/**
 * What a newcomer meets first: --version, the default one-line progress in a log, --quiet, errors as JSON under
 * --json, a GPU device that is not there refused before any download, --preview and --threads.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runVideoshop, type CliOptions } from '../helpers/cli.js';
import { createWorkspace, FAST, files, firstFrame, makeVideo, probe, type Workspace } from './fixtures.js';

let ws: Workspace;
let clip: string;
let edited: string;

before(async () => {
  ws = createWorkspace('edit-newcomer');
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 20, fps: 12, size: '200x120', audio: true });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
});
after(() => ws?.remove());

const run = (args: string[], opts: CliOptions = {}) => runVideoshop(args, { ...opts, env: { ...ws.env, ...opts.env } });

describe('newcomer', { concurrency: 3 }, () => {
  test('--version prints the package version', async () => {
    const r = await run(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test('default progress off a terminal: few plain lines with the overall %, the last at 100%; then the summary', async () => {
    const out = path.join(ws.outDir(), 'out.mp4');
    const r = await run(['edit', clip, '-e', edited, '-o', out, '--model', ws.model, ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.ok(lines.length <= 8, `a short log, not a line per step:\n${r.stderr}`);
    assert.ok(!r.stderr.includes('\r'), 'no carriage returns in a log');
    assert.match(lines.at(-2)!, /100%/);
    assert.match(lines.at(-1)!, /^wrote .*out\.mp4: 20 frames, 200×120, 12 fps, audio copied, in [\d.]+ s$/);
  });

  test('--json: usage errors and bad input are JSON on stdout with a stable code, exit 2', async () => {
    let r = await run(['edit', clip, '-e', edited, '-o', path.join(ws.outDir(), 'o.mp4'), '--steps', 'x', '--json']);
    assert.equal(r.code, 2);
    assert.deepEqual(JSON.parse(r.stdout), { error: { code: 'bad_option', message: '--steps must be an integer in [1, 1000], got "x"' } });
    r = await run(['edit', clip, '-o', path.join(ws.outDir(), 'o.mp4'), '--json']);
    assert.equal(r.code, 2);
    assert.deepEqual(JSON.parse(r.stdout), { error: { code: 'usage', message: "required option '-e, --edited-frame <image>' not specified (see videoshop edit --help)" } });
    r = await run(['edit', ws.file('missing.mp4'), '-e', edited, '-o', path.join(ws.outDir(), 'o.mp4'), '--model', ws.model, '--json']);
    assert.equal(r.code, 2);
    const j = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    assert.equal(j.error.code, 'bad_input');
    assert.match(j.error.message, /video not found/);
  });

  test('--device cuda / webgpu where they cannot run: one line with the fix, before any download', async () => {
    // The Hub is unreachable: a download attempt would fail with "cannot reach", not with the device's message.
    const env = { HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_OFFLINE: undefined, VK_ICD_FILENAMES: undefined, VK_DRIVER_FILES: undefined, XDG_DATA_DIRS: '/nonexistent' };
    const outDir = ws.outDir();
    let r = await run(['edit', clip, '-e', edited, '-o', path.join(outDir, 'o.mp4'), '--model', 'stabilityai/stable-video-diffusion-img2vid',
      '--device', 'cuda'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^videoshop: CUDA execution provider is not installed: run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`/m);
    assert.doesNotMatch(r.stderr, /cannot reach|^download/m);
    r = await run(['edit', clip, '-e', edited, '-o', path.join(outDir, 'o.mp4'), '--model', 'stabilityai/stable-video-diffusion-img2vid',
      '--device', 'webgpu'], { env });
    assert.equal(r.code, 2, r.stderr);
    // No GPU here, and the Vulkan loader is pointed at no driver: one line naming the missing driver.
    assert.match(r.stderr, /^videoshop: (WebGPU needs a Vulkan driver and none is installed|could not start the WebGPU execution provider)/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /cannot reach|^download/m);
    r = await run(['edit', clip, '-e', edited, '-o', path.join(outDir, 'o.mp4'), '--model', 'stabilityai/stable-video-diffusion-img2vid',
      '--device', 'cuda', '--json'], { env });
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'device_unavailable');
    assert.deepEqual(files(outDir), []);
  });

  test('--preview: a quarter of the area, the first block; --threads is accepted', async () => {
    const out = path.join(ws.outDir(), 'preview.mp4');
    const r = await run(['edit', clip, '-e', edited, '-o', out, '--model', ws.model, '--preview', '--threads', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { processing: { width: number; height: number } };
    // The tiny model's native area is 32²: the full run processes 200×120 at 40×24, the preview at 20×12 (multiples of 4).
    assert.deepEqual(j.processing, { width: 20, height: 12 });
    const p = await probe(out);
    assert.deepEqual([p.width, p.height, p.frames], [200, 120, 14], 'the first block (the tiny model\'s 14 frames) at the source size');
    const bad = await run(['edit', clip, '-e', edited, '-o', path.join(ws.outDir(), 'x.mp4'), '--model', ws.model, '--threads', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^videoshop: --threads must be an integer in \[1, 1024\], got "0"$/m);
  });
});
