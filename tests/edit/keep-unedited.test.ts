/**
 * Localized editing end to end, on the toy model: a clip with a still textured background, a red square moving right
 * (the edit recolours it) and a grey "walker" moving left far from it. Written losslessly (FFV1), every pixel away
 * from the square's path must be the source's own decode, the walker's included; `keep-unedited off` re-renders the
 * whole frame as before; the masks come out as a video and as PNGs; bad mask input is one clear line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { editVideo, exportFrame } from '../../src/edit/index.js';
import { runVideoshop } from '../helpers/cli.js';
import { decode, differences, paintVan, VTEST } from '../helpers/vtest.js';
import { assertRefused, createWorkspace, decodeRgb, files, probe, type Workspace } from './fixtures.js';

const W = 256, H = 144, FRAMES = 16, SQUARE = 28;
let ws: Workspace;
let clip: string;
let edited: string;

function squareAt(t: number): { x: number; y: number } {
  return { x: 24 + 3 * t, y: 40 };
}

function walkerAt(t: number): { x: number; y: number } {
  return { x: 220 - 2 * t, y: 104 };
}

/** Frame t as interleaved RGB bytes; `colour` of the square (the edit recolours it). */
function frame(t: number, colour: readonly number[]): Buffer {
  const b = Buffer.alloc(W * H * 3);
  const sq = squareAt(t), wk = walkerAt(t);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let rgb = [128 + 60 * Math.sin(x * 0.21 + y * 0.05), 110 + 50 * Math.sin(y * 0.17), 100 + 40 * Math.cos((x + y) * 0.11)];
      if (x >= sq.x && x < sq.x + SQUARE && y >= sq.y && y < sq.y + SQUARE) rgb = [...colour];
      if ((x - wk.x) ** 2 / 36 + (y - wk.y) ** 2 / 196 <= 1) rgb = [90, 90, 95];
      b.set(rgb.map((v) => Math.round(v)), (y * W + x) * 3);
    }
  }
  return b;
}

/** The clip as H.264 4:2:0 (what cameras and phones write), from the frames above. */
async function writeClip(file: string): Promise<string> {
  const child = spawn('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-r', '12', '-i', 'pipe:0',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', '-pix_fmt', 'yuv420p', file], { stdio: ['pipe', 'ignore', 'inherit'] });
  for (let t = 0; t < FRAMES; t++) child.stdin.write(frame(t, [200, 40, 40]));
  child.stdin.end();
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  return file;
}

/** Whether (x, y) is at least `margin` pixels away from every place the square is in any frame. */
function awayFromSquare(x: number, y: number, margin: number): boolean {
  const first = squareAt(0), last = squareAt(FRAMES - 1);
  return x < first.x - margin || x >= last.x + SQUARE + margin || y < first.y - margin || y >= first.y + SQUARE + margin;
}

before(async () => {
  ws = createWorkspace('keep-unedited');
  process.env.VIDEOSHOP_CACHE = ws.env.VIDEOSHOP_CACHE;
  clip = await writeClip(ws.file('clip.mp4'));
  // The edited first frame: the source's first frame as the edit reads it, the square made green.
  const first = await decodeRgb(clip);
  const png = Buffer.from(first.subarray(0, W * H * 3));
  const sq = squareAt(0);
  for (let y = sq.y; y < sq.y + SQUARE; y++) for (let x = sq.x; x < sq.x + SQUARE; x++) png.set([40, 190, 60], (y * W + x) * 3);
  edited = ws.file('edited.png');
  await sharp(png, { raw: { width: W, height: H, channels: 3 } }).png().toFile(edited);
});

after(() => ws?.remove());

const base = { model: 'toy', steps: 4, seed: 3, codec: 'ffv1' as const };

test('keep-unedited auto: every pixel away from the edit is the source\'s own decode; the masks come out', async () => {
  const out = ws.outDir();
  const output = path.join(out, 'out.mkv'), maskOut = path.join(out, 'mask.mkv'), framesDir = path.join(out, 'frames');
  const r = await editVideo({ video: clip, editedFrame: edited, output, maskOut, framesDir, ...base });
  assert.deepEqual(r.warnings, []);
  const [src, dst] = [await decodeRgb(clip), await decodeRgb(output)];
  assert.equal(dst.length, src.length);
  let away = 0, changedNear = 0;
  for (let t = 0; t < FRAMES; t++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = (t * W * H + y * W + x) * 3;
        const same = src[i] === dst[i] && src[i + 1] === dst[i + 1] && src[i + 2] === dst[i + 2];
        if (awayFromSquare(x, y, 24)) {
          away++;
          assert.ok(same, `frame ${t} (${x}, ${y}): ${[...dst.subarray(i, i + 3)]} instead of the source's ${[...src.subarray(i, i + 3)]}`);
        } else if (!same) changedNear++;
      }
    }
  }
  assert.ok(away > FRAMES * W * H * 0.5, `most of the frame is away from the square (${away})`);
  assert.ok(changedNear > 0, 'the edit changed something');
  // The masks: a video of the output's length and size, and one PNG per frame beside the frames.
  const m = await probe(maskOut);
  assert.deepEqual([m.frames, m.width, m.height], [FRAMES, W, H]);
  const names = files(framesDir);
  assert.equal(names.filter((n) => n.startsWith('mask_')).length, FRAMES);
  assert.equal(names.filter((n) => n.startsWith('frame_')).length, FRAMES);
  // In the first mask, the square's centre is white, a far corner black.
  const mask0 = await sharp(path.join(framesDir, 'mask_00000.png')).raw().toBuffer();
  const sq = squareAt(0);
  assert.equal(mask0[((sq.y + SQUARE / 2) * W + sq.x + SQUARE / 2) * 3], 255);
  assert.equal(mask0[(5 * W + 250) * 3], 0);
});

test('keep-unedited off re-renders every pixel, as the paper\'s method does', async () => {
  const out = ws.outDir();
  const output = path.join(out, 'out.mkv');
  await editVideo({ video: clip, editedFrame: edited, output, keepUnedited: 'off', ...base });
  const [src, dst] = [await decodeRgb(clip), await decodeRgb(output)];
  let same = 0;
  for (let i = 0; i < src.length; i++) if (src[i] === dst[i]) same++;
  assert.ok(same < src.length * 0.5, `${same} of ${src.length} values equal the source's`);
  assert.deepEqual(files(out), ['out.mkv']);
});

test('an edit of the whole frame falls back to the full frame, and says so', async () => {
  const out = ws.outDir();
  const inverted = ws.file('inverted.png');
  await sharp(edited).negate().toFile(inverted);
  const warnings: string[] = [];
  await editVideo({ video: clip, editedFrame: inverted, output: path.join(out, 'out.mkv'), ...base }, { onWarning: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /the whole frame is re-rendered/);
});

test('bad mask input is one clear line, exit 2, nothing written', async () => {
  const out = ws.outDir();
  const small = ws.file('small-mask.png');
  await sharp({ create: { width: 50, height: 40, channels: 3, background: 'white' } }).png().toFile(small);
  const broken = ws.file('broken-mask.png');
  await import('node:fs').then((fs) => fs.writeFileSync(broken, 'not a png'));
  const args = ['edit', clip, '-e', edited, '-o', path.join(out, 'out.mkv'), '--model', 'toy', '--steps', '4'];
  const cases: [string[], RegExp][] = [
    [['--mask', small], /--mask .*small-mask\.png is 50×40: it must have the edited frame's size \(256×144\) or the video's/],
    [['--mask', broken], /cannot read image .*broken-mask\.png/],
    [['--keep-mask', small], /--keep-mask .*small-mask\.png is 50×40: it must have the edited frame's size \(256×144\) or the video's/],
    [['--keep-unedited', 'sometimes'], /--keep-unedited must be one of auto, on, off, got "sometimes"/],
    [['--mask-out', path.join(out, 'mask.txt')], /mask\.txt/],
  ];
  for (const [extra, message] of cases) {
    const r = await runVideoshop([...args, ...extra], { env: ws.env });
    assert.equal(r.code, 2, r.stderr);
    assertRefused(r, message, out);
  }
});

test('keep-mask over the whole edit: nothing may change, so the output is the source\'s own decode', async () => {
  const out = ws.outDir();
  const keep = ws.file('keep-all.png');
  await sharp({ create: { width: W, height: H, channels: 3, background: 'white' } }).png().toFile(keep);
  const output = path.join(out, 'out.mkv');
  await editVideo({ video: clip, editedFrame: edited, output, keepMask: keep, ...base });
  assert.ok((await decodeRgb(output)).equals(await decodeRgb(clip)));
});

test('real footage (OpenCV\'s vtest.avi): the van recoloured, the people walking elsewhere untouched to the bit',
  { skip: !existsSync(VTEST) && 'needs Debian\'s opencv-doc (.ci/run installs it)' }, async () => {
    const out = ws.outDir();
    const first = path.join(out, 'first.png'), vanEdited = path.join(out, 'edited.png'), output = path.join(out, 'out.mkv');
    await exportFrame(VTEST, first, { index: 0 });
    await paintVan(first, vanEdited);
    const r = await editVideo({ video: VTEST, editedFrame: vanEdited, output, duration: 1, ...base });
    const src = decode(VTEST).subarray(0, r.frames * r.width * r.height * 3);
    const d = differences(src, decode(output), r.width, r.height, 64);
    assert.equal(d.far, 0, `${d.far} values differ farther than 64 px from the van (farthest ${d.farthest} px)`);
    assert.ok(d.near > 0, 'the van changed');
  });
