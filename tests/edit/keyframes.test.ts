/**
 * More than one edited keyframe and re-rendering one section (issue 18, items 3–4), on the toy model: a clip with a
 * textured background and a red square moving right, written losslessly (FFV1) so frames compare exactly. The first
 * frame's square is made green, a keyframe's blue, another's yellow: each keyframe's span is that span edited alone.
 * A section re-rendered `into` an earlier result changes only its frames; audio and timing stay. Bad input (a
 * keyframe past the end, two too close, an unreadable image, an earlier result of another length or rate) is one
 * line, exit 2, nothing written.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { editVideo, VideoshopError } from '../../src/edit/index.js';
import { joinWeight } from '../../src/edit/into.js';
import { checkKeyframeSpacing, planKeyframeBlocks } from '../../src/edit/keyframes.js';
import { runVideoshop } from '../helpers/cli.js';
import { assertRefused, createWorkspace, decodeRgb, ffmpeg, probe, type Workspace } from './fixtures.js';

const exec = promisify(execFile);
const W = 128, H = 72, FRAMES = 16, FPS = 12, SQUARE = 20;
const RED = [200, 40, 40], GREEN = [40, 190, 60], BLUE = [40, 60, 200], YELLOW = [220, 210, 40];
let ws: Workspace;
let clip: string;
let source: Buffer;
const images: Record<'first' | 'blue6' | 'yellow11', string> = { first: '', blue6: '', yellow11: '' };
/** The keyframe test's output: the earlier result a section is re-rendered `into`. */
let earlier = '';

const squareAt = (t: number) => ({ x: 12 + 3 * t, y: 24 });

function frame(t: number): Buffer {
  const b = Buffer.alloc(W * H * 3);
  const sq = squareAt(t);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let rgb = [128 + 60 * Math.sin(x * 0.21 + y * 0.05), 110 + 50 * Math.sin(y * 0.17), 100 + 40 * Math.cos((x + y) * 0.11)];
      if (x >= sq.x && x < sq.x + SQUARE && y >= sq.y && y < sq.y + SQUARE) rgb = RED;
      b.set(rgb.map((v) => Math.round(v)), (y * W + x) * 3);
    }
  }
  return b;
}

/** The clip (H.264 4:2:0, AAC audio 1 s longer than the video, trimmed by the edit). */
async function writeClip(file: string): Promise<string> {
  const child = spawn('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-r', String(FPS), '-i', 'pipe:0',
    '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${FRAMES / FPS + 1}`, '-shortest',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', '-pix_fmt', 'yuv420p', '-c:a', 'aac', file], { stdio: ['pipe', 'ignore', 'inherit'] });
  for (let t = 0; t < FRAMES; t++) child.stdin.write(frame(t));
  child.stdin.end();
  assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0);
  return file;
}

/** Source frame t (as decoded) with its square painted `colour`, as a PNG. */
async function editedAt(t: number, colour: readonly number[], name: string): Promise<string> {
  const png = Buffer.from(source.subarray(t * W * H * 3, (t + 1) * W * H * 3));
  const sq = squareAt(t);
  for (let y = sq.y; y < sq.y + SQUARE; y++) for (let x = sq.x; x < sq.x + SQUARE; x++) png.set(colour, (y * W + x) * 3);
  const file = ws.file(name);
  await sharp(png, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
  return file;
}

/** Mean RGB of the square's inner part in frame t of decoded frames. */
function squareColour(frames: Buffer, t: number): number[] {
  const sq = squareAt(t), s = [0, 0, 0];
  let n = 0;
  for (let y = sq.y + 4; y < sq.y + SQUARE - 4; y++) {
    for (let x = sq.x + 4; x < sq.x + SQUARE - 4; x++) {
      const i = (t * W * H + y * W + x) * 3;
      for (let c = 0; c < 3; c++) s[c] += frames[i + c];
      n++;
    }
  }
  return s.map((v) => v / n);
}

const frameBytes = (frames: Buffer, t: number) => frames.subarray(t * W * H * 3, (t + 1) * W * H * 3);

before(async () => {
  ws = createWorkspace('keyframes');
  process.env.VIDEOSHOP_CACHE = ws.env.VIDEOSHOP_CACHE;
  clip = await writeClip(ws.file('clip.mp4'));
  source = await decodeRgb(clip);
  images.first = await editedAt(0, GREEN, 'first.png');
  images.blue6 = await editedAt(6, BLUE, 'blue6.png');
  images.yellow11 = await editedAt(11, YELLOW, 'yellow11.png');
});

after(() => ws?.remove());

/** ⌊4·0.55⌋ = 2 steps each way, unguided: a few seconds a block on an idle machine. */
const base = { model: 'toy', steps: 4, guidance: 1, seed: 3, codec: 'ffv1' as const };

test('blocks around keyframes: each keyframe starts a span planned as a video of its own; spacing refused below the overlap', () => {
  assert.deepEqual(planKeyframeBlocks(24, 8, 4, [8, 16]), [{ start: 0, end: 8 }, { start: 8, end: 16 }, { start: 16, end: 24 }]);
  assert.deepEqual(planKeyframeBlocks(24, 8, 4, [10]),
    [{ start: 0, end: 8 }, { start: 2, end: 10 }, { start: 10, end: 18 }, { start: 13, end: 21 }, { start: 16, end: 24 }]);
  const k = (offset: number) => ({ frame: offset, image: 'k.png', index: offset, offset });
  assert.doesNotThrow(() => checkKeyframeSpacing([k(4), k(8)], 12, 4));
  assert.throws(() => checkKeyframeSpacing([k(4), k(6)], 12, 4), /keyframe: "#6=k\.png": frame 6 is 2 frames after the keyframe before it/);
  assert.throws(() => checkKeyframeSpacing([k(3)], 12, 4), /frame 3 is 3 frames after the edited first frame/);
  assert.throws(() => checkKeyframeSpacing([k(10)], 12, 4), /leaves 2 frames to the section's end/);
  // Joins: inside the section only, J = 4 frames rising k/5 at the start, falling at the end; none at the video's ends.
  const section = { start: 6, count: 12 };
  assert.deepEqual([5, 6, 7, 9, 10, 13, 14, 17, 18].map((i) => joinWeight(i, section, 24)), [0, 0.2, 0.4, 0.8, 1, 1, 0.8, 0.2, 0]);
  assert.equal(joinWeight(0, { start: 0, count: 6 }, 24), 1);
  assert.equal(joinWeight(23, { start: 18, count: 6 }, 24), 1);
});

test('keyframes: each keyframe\'s span is exactly that span edited alone with the keyframe as its edited frame', async () => {
  const out = ws.outDir();
  earlier = path.join(out, 'keyed.mkv');
  const r = await editVideo({
    video: clip, editedFrame: images.first, output: earlier, ...base,
    // One by time in the source (11/12 s, as `videoshop frame --time` exports it), one by frame index, in any order.
    keyframe: [`0.9166=${images.yellow11}`, { frame: 6, image: images.blue6 }],
  });
  assert.deepEqual(r.blocks, [{ start: 0, end: 6 }, { start: 6, end: 11 }, { start: 11, end: 16 }]);
  assert.deepEqual(r.warnings, []);
  const keyed = await decodeRgb(earlier);
  assert.equal(keyed.length, source.length);
  // The toy model renders a recolour only faintly at this size and step count, so rather than read colours, the
  // test holds each keyframe's span to the edit a user would get by editing that span alone from the keyframe:
  // the same conditioning (CLIP embedding, latents, rescaling target, edit region), the same seed (seed + block).
  const spans = [
    { start: '0.5', duration: '0.4166', image: images.blue6, seed: base.seed + 1, frames: [6, 11] },
    { start: '0.9166', duration: undefined, image: images.yellow11, seed: base.seed + 2, frames: [11, 16] },
  ];
  for (const span of spans) {
    const alone = path.join(out, `alone-${span.frames[0]}.mkv`);
    await editVideo({ video: clip, editedFrame: span.image, output: alone, ...base, seed: span.seed,
      start: Number(span.start), ...(span.duration ? { duration: Number(span.duration) } : {}) });
    const a = await decodeRgb(alone);
    assert.equal(a.length, (span.frames[1] - span.frames[0]) * W * H * 3);
    for (let t = span.frames[0]; t < span.frames[1]; t++) {
      assert.ok(frameBytes(keyed, t).equals(frameBytes(a, t - span.frames[0])), `frame ${t}: as its span edited alone`);
    }
  }
  // And the keyframes changed the video there (the square is not the source's).
  for (const k of [6, 11]) assert.notDeepEqual(squareColour(keyed, k), squareColour(source, k));
});

async function audioOf(file: string): Promise<Buffer> {
  const { stdout } = await exec('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-map', '0:a', '-f', 's16le', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function packetTimes(file: string): Promise<string> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv', file]);
  return stdout;
}

test('into: a section re-rendered with another seed changes only its frames; audio and timing stay', async () => {
  assert.ok(earlier, 'the keyframe test wrote the earlier result');
  const out = ws.outDir();
  const again = path.join(out, 'again.mkv');
  // The section from 0.25 s, 0.5 s long: frames 3–8 (its edited frame is frame 3); joins of 3 frames at each end.
  const sectionEdit = await editedAt(3, GREEN, 'first3.png');
  const r = await runVideoshop(['edit', clip, '-e', sectionEdit, '-o', again, '--model', 'toy', '--steps', '4', '--guidance', '1', '--seed', '9',
    '--codec', 'ffv1', '--start', '0.25', '--duration', '0.5', '--into', earlier, '--quiet'], { env: ws.env });
  assert.equal(r.code, 0, r.stderr);
  const [p, n] = [await decodeRgb(earlier), await decodeRgb(again)];
  assert.equal(n.length, p.length);
  for (let t = 0; t < FRAMES; t++) {
    const same = frameBytes(p, t).equals(frameBytes(n, t));
    assert.equal(same, t < 3 || t >= 9, `frame ${t}: ${same ? 'the earlier result\'s' : 're-rendered'}`);
  }
  const [pp, np] = [await probe(earlier), await probe(again)];
  assert.deepEqual([np.frames, np.fps, np.width, np.height, np.codec], [pp.frames, pp.fps, pp.width, pp.height, pp.codec]);
  assert.ok((await audioOf(again)).equals(await audioOf(earlier)), 'the audio is the earlier result\'s');
  assert.equal(await packetTimes(again), await packetTimes(earlier), 'every frame at its time');
  // With --force, -o may be the earlier result itself: it is replaced by its re-rendered copy, nothing else left.
  const inPlace = path.join(out, 'in-place.mkv');
  copyFileSync(again, inPlace);
  const r2 = await runVideoshop(['edit', clip, '-e', sectionEdit, '-o', inPlace, '--force', '--model', 'toy', '--steps', '4', '--guidance', '1',
    '--seed', '11', '--codec', 'ffv1', '--start', '0.25', '--duration', '0.5', '--into', inPlace, '--quiet'], { env: ws.env });
  assert.equal(r2.code, 0, r2.stderr);
  const replaced = await decodeRgb(inPlace);
  for (let t = 0; t < FRAMES; t++) assert.equal(frameBytes(replaced, t).equals(frameBytes(n, t)), t < 3 || t >= 9, `in place, frame ${t}`);
  assert.deepEqual(readdirSync(out).sort(), ['again.mkv', 'in-place.mkv']);
});

/** Each case refused as a user sees it: one line naming what is wrong, exit 2, nothing in the output folder. */
async function assertCliRefusals(cases: readonly [string[], RegExp][]): Promise<void> {
  for (const [args, message] of cases) {
    const out = ws.outDir();
    const r = await runVideoshop(['edit', clip, '-e', images.first, '-o', path.join(out, 'out.mkv'), '--model', 'toy', '--steps', '4', ...args],
      { env: ws.env });
    assertRefused(r, message, out);
    assert.equal(r.code, 2, `${args.join(' ')}: exit 2`);
  }
}

test('bad keyframes: past the end, too close, on one frame, unreadable, malformed: one line, exit 2, nothing written', async () => {
  const unreadable = ws.file('broken.png');
  writeFileSync(unreadable, 'not an image');
  await assertCliRefusals([
    [['--keyframe', `9=${images.blue6}`], /^videoshop: --keyframe 9=\S+: 9 s is past the last frame \(at 1\.250 s\)$/],
    [['--keyframe', `#16=${images.blue6}`], /--keyframe #16=\S+: frame 16 is past the end \(the video has frames 0–15\)$/],
    [['--keyframe', `#6=${images.blue6}`, '--keyframe', `#8=${images.yellow11}`],
      /--keyframe #8=\S+: frame 8 is 2 frames after the keyframe before it; keyframes start blocks and must be at least 4 frames apart/],
    [['--keyframe', `#6=${images.blue6}`, '--keyframe', `0:00.4999=${images.yellow11}`], /two keyframes on one frame/],
    [['--keyframe', `#6=${unreadable}`], /--keyframe #6=\S+broken\.png: .*broken\.png/],
    [['--keyframe', 'soon=later.png'], /--keyframe must be T=IMAGE with T in seconds/],
  ]);
  // The library says the same in its own words.
  await assert.rejects(editVideo({ video: clip, editedFrame: images.first, output: ws.file('lib.mkv'), ...base, keyframe: [{ time: 3, image: images.blue6 }] }),
    (e: VideoshopError) => e.field === 'keyframe' && /^keyframe: "3=\S+": 3 s is past the last frame/.test(e.message));
});

test('bad into: an earlier result of another length or frame rate, the output itself without --force: one line, exit 2, nothing written', async () => {
  const shorter = ws.file('shorter.mp4'), faster = ws.file('faster.mp4');
  await ffmpeg(['-i', clip, '-vf', 'trim=end_frame=12', '-an', shorter]);
  await ffmpeg(['-i', clip, '-vf', 'setpts=N/24/TB', '-r', '24', '-an', faster]);
  await assertCliRefusals([
    [['--into', shorter], /^videoshop: --into \S+shorter\.mp4 has 12 frames at 12 fps, 128×72 but the source has 16 frames at 12 fps, 128×72: give a result of a whole edit of this video$/],
    [['--into', faster], /--into \S+faster\.mp4 has 16 frames at 24 fps, 128×72 but the source has 16 frames at 12 fps/],
    [['--into', clip, '--frames-dir', ws.file('frames')], /--into writes the whole video again: --frames-dir is not available with it/],
  ]);
  // -o the earlier result itself: only with --force (and then still checked first: this one is of another length).
  const cases: [string[], RegExp][] = [
    [[], /^videoshop: --output is the --into file: choose another output, or pass --force to replace it\n$/],
    [['--force'], /^videoshop: --into \S+shorter\.mp4 has 12 frames/],
  ];
  for (const [args, message] of cases) {
    const r = await runVideoshop(['edit', clip, '-e', images.first, '-o', shorter, '--into', shorter, ...args, '--model', 'toy'], { env: ws.env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, message);
    assert.equal((await probe(shorter)).frames, 12, 'the earlier result untouched');
  }
});
