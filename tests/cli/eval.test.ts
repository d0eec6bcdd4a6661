/**
 * `videoshop eval` in-process on the tiny random SVD's CLIP and ffmpeg test clips: a video against itself, against a
 * copy that pans away from it, with a mask; the streamed CLI agrees with `evaluateEdit` on in-memory frames; errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildProgram } from '../../src/cli/main.js';
import { evaluateEdit, FLOW_METHOD, maskFromFrame } from '../../src/eval/index.js';
import { loadClip } from '../../src/models/clip/index.js';
import { createTinyModel } from '../../src/models/tiny.js';
import type { Tensor } from '../../src/tensor.js';
import { fitImage, readFrames, readImage } from '../../src/video/index.js';
import { assertRefused, cliInProcess } from '../helpers/cli-inprocess.js';

const exec = promisify(execFile);
const ffmpeg = (args: string[]) => exec('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args]);
const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

let dir: string;
let model: string;
let clip: string;
/** The clip panning 1 px per frame to the left against its source (edge padded), same size and frame count. */
let panned: string;
let short: string;
let target: string;
let mask: string;
const savedEnv = { ...process.env };

const cli = cliInProcess;

async function evalJson(...args: string[]): Promise<Record<string, unknown>> {
  const r = await cli('eval', '--model', model, '--json', '-q', ...args);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.length, 1);
  return JSON.parse(r.out[0]) as Record<string, unknown>;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'videoshop-eval-'));
  process.env.VIDEOSHOP_CACHE = path.join(dir, 'cache');
  process.env.HF_HUB_OFFLINE = '1';
  model = path.join(dir, 'tiny-svd');
  createTinyModel(model, { seed: 3 });
  clip = path.join(dir, 'clip.mp4');
  panned = path.join(dir, 'panned.mp4');
  short = path.join(dir, 'short.mp4');
  target = path.join(dir, 'target.png');
  mask = path.join(dir, 'mask.png');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=96x64:r=12,trim=end_frame=12', ...H264, clip]);
  // Frame n shows the source from x = n on: content moves left by 1 px a frame relative to the source.
  await ffmpeg(['-i', clip, '-vf', "crop=w=80:h=64:x='n':y=0,pad=96:64:0:0:color=gray", ...H264, panned]);
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=96x64:r=12,trim=end_frame=10', ...H264, short]);
  await ffmpeg(['-i', clip, '-frames:v', '1', target]);
  await ffmpeg(['-f', 'lavfi', '-i', 'color=black:s=96x64,drawbox=x=24:y=16:w=32:h=24:color=white:t=fill', '-frames:v', '1', mask]);
});

after(() => {
  process.env = savedEnv;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a video against itself: SSIM 1, PSNR ∞ (null in JSON, with a note), Flow 0, CLIP_src 1, CLIP_TC high', async () => {
  const j = await evalJson('--source', clip, '--edited', clip, '--target', target);
  assert.deepEqual(Object.keys(j), ['CLIP_tgt', 'CLIP_src', 'CLIP_TC', 'SSIM', 'PSNR', 'Flow', 'frames', 'size', 'model', 'notes']);
  assert.equal(j.SSIM, 1);
  assert.equal(j.PSNR, null);
  assert.equal(j.Flow, 0);
  assert.ok(Math.abs((j.CLIP_src as number) - 1) < 1e-6, `CLIP_src ${j.CLIP_src}`);
  assert.ok((j.CLIP_TC as number) > 0.9 && (j.CLIP_TC as number) <= 1 + 1e-6, `CLIP_TC ${j.CLIP_TC}`);
  assert.ok((j.CLIP_tgt as number) > 0.9 && (j.CLIP_tgt as number) <= 1 + 1e-6, `CLIP_tgt ${j.CLIP_tgt}`);
  assert.equal(j.frames, 12);
  assert.deepEqual(j.size, { width: 96, height: 64 });
  assert.equal(j.model, model);
  const notes = j.notes as string[];
  assert.ok(notes.some((n) => /^PSNR is \+Infinity/.test(n)), notes.join('\n'));
  assert.ok(notes.some((n) => n.includes(FLOW_METHOD)), notes.join('\n'));
  assert.ok(notes.some((n) => /image encoder is tiny .* not a measure of quality/.test(n)), notes.join('\n'));
});

test('against a panning copy Flow goes up and SSIM down; with --mask the ⁺ metrics appear; equal to evaluateEdit', async () => {
  const plain = await evalJson('--source', clip, '--edited', panned, '--target', target);
  assert.ok((plain.Flow as number) > 0.5, `Flow ${plain.Flow}`);
  assert.ok((plain.SSIM as number) < 0.8, `SSIM ${plain.SSIM}`);
  assert.ok((plain.PSNR as number) > 5 && (plain.PSNR as number) < 30, `PSNR ${plain.PSNR}`);
  assert.ok((plain.CLIP_src as number) < 1 - 1e-4, `CLIP_src ${plain.CLIP_src}`);
  assert.equal(plain.CLIP_tgt_plus, undefined);

  const j = await evalJson('--source', clip, '--edited', panned, '--target', target, '--mask', mask);
  assert.deepEqual(Object.keys(j).slice(0, 9),
    ['CLIP_tgt', 'CLIP_tgt_plus', 'CLIP_src', 'CLIP_src_plus', 'CLIP_TC', 'SSIM', 'PSNR', 'Flow', 'Flow_plus']);
  for (const k of ['CLIP_tgt', 'CLIP_src', 'CLIP_TC', 'SSIM', 'PSNR', 'Flow']) assert.equal(j[k], plain[k], k);
  assert.ok((j.Flow_plus as number) > 0.5 && (j.CLIP_src_plus as number) < 1 && (j.CLIP_tgt_plus as number) <= 1 + 1e-6);
  assert.ok((j.notes as string[]).some((n) => /mask \(12\.5% of the frame edited\) is applied to every frame/.test(n)));

  // The CLI streams the videos in passes; evaluateEdit on the same frames in memory must give the same numbers.
  const read = async (file: string): Promise<Tensor[]> => {
    const frames: Tensor[] = [];
    for await (const f of readFrames(file, { width: 96, height: 64 })) frames.push(f);
    return frames;
  };
  const embedder = await loadClip(path.join(model, 'image_encoder'));
  try {
    const m = await evaluateEdit({
      source: await read(clip), edited: await read(panned), embedder,
      target: fitImage(await readImage(target), 96, 64), masks: [maskFromFrame(fitImage(await readImage(mask), 96, 64))],
    });
    const pairs: [string, number | undefined][] = [
      ['CLIP_tgt', m.clipTgt], ['CLIP_tgt_plus', m.clipTgtPlus], ['CLIP_src', m.clipSrc], ['CLIP_src_plus', m.clipSrcPlus],
      ['CLIP_TC', m.clipTC], ['SSIM', m.ssim], ['PSNR', m.psnr], ['Flow', m.flow], ['Flow_plus', m.flowPlus],
    ];
    for (const [k, v] of pairs) assert.ok(Math.abs((j[k] as number) - (v as number)) < 1e-9, `${k}: CLI ${j[k]}, evaluateEdit ${v}`);
  } finally {
    await embedder.release();
  }
});

test('the table names every metric; progress goes to stderr, --no-flow and --size are honoured', async () => {
  const r = await cli('eval', '--model', model, '--source', clip, '--edited', panned, '--target', target, '--mask', mask);
  assert.equal(r.code, 0, r.err);
  for (const label of ['CLIP_tgt ', 'CLIP_tgt⁺', 'CLIP_src ', 'CLIP_src⁺', 'CLIP_TC', 'SSIM', 'PSNR', 'Flow ', 'Flow⁺']) {
    assert.ok(r.out.some((l) => l.startsWith(label)), `a row for ${label}:\n${r.out.join('\n')}`);
  }
  assert.ok(r.out.some((l) => l.startsWith('12 frames compared at 96×64')));
  for (const stage of ['compare', 'embed', 'flow']) assert.match(r.err, new RegExp(`^${stage} .* done in`, 'm'));
  assert.match(r.err, /embed .* 62\/62/, '5 embeddings per frame pair + 2 of the target with a mask');

  const j = await evalJson('--source', clip, '--edited', clip, '--target', target, '--no-flow', '--size', '48x32');
  assert.equal(j.Flow, undefined);
  assert.deepEqual(j.size, { width: 48, height: 32 });
  assert.equal(j.SSIM, 1);
});

test('--help names the optical-flow method and says the mask applies to every frame', () => {
  const command = buildProgram(() => {}).commands.find((c) => c.name() === 'eval');
  assert.ok(command);
  let help = '';
  command.configureOutput({ writeOut: (s) => (help += s) });
  command.outputHelp();
  assert.ok(help.includes(FLOW_METHOD), help);
  assert.match(help, /RAFT/);
  assert.match(help, /applied to every frame/);
});

test('frame counts that differ, missing files and a bad --size are refused with one line, before any model loads', async () => {
  assertRefused(await cli('eval', '--model', model, '--source', clip, '--edited', short, '--target', target),
    /source has 12 frames but the edited video has 10: both videos must have the same frame count/);
  assertRefused(await cli('eval', '--model', model, '--source', path.join(dir, 'nope.mp4'), '--edited', clip, '--target', target),
    /video not found: .*nope\.mp4/);
  assertRefused(await cli('eval', '--model', model, '--source', clip, '--edited', clip, '--target', path.join(dir, 'nope.png')),
    /image not found: .*nope\.png/);
  assertRefused(await cli('eval', '--model', model, '--source', clip, '--edited', clip, '--target', target, '--mask', path.join(dir, 'm.png')),
    /image not found: .*m\.png/);
  // A missing model is reported only after the inputs were checked.
  assertRefused(await cli('eval', '--model', path.join(dir, 'no-model'), '--source', clip, '--edited', clip, '--target', target),
    /no-model/);
  assertRefused(await cli('eval', '--model', model, '--source', clip, '--edited', clip, '--target', target, '--size', '8x8'),
    /11×11 or more/);
  const bad = await cli('eval', '--source', clip, '--edited', clip, '--target', target, '--size', '96by64');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--size must be a size WxH like 1024x576, got "96by64"/);
});
