/**
 * `videoshop edit` with bad inputs, as a user meets them: each must end with ONE line on stderr (no stack), a
 * non-zero exit, and nothing written: no output file and no temp file in the output folder. Also what is allowed
 * with a flag (--force, --fit) or with a warning (an unedited frame). Hub ids go to a loopback mock Hub.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runVideoshop, type CliOptions } from '../helpers/cli.js';
import { isLfs, tinySvdRepo } from '../hub/fixtures.js';
import { startMockHub, type MockHub } from '../hub/mock-hub.js';
import { assertRefused, createWorkspace, FAST, files, ffmpeg, firstFrame, makeVideo, probe, type Workspace } from './fixtures.js';

let ws: Workspace;
let hub: MockHub;
/** 8 frames (one block) with audio, 200×120. */
let clip: string;
let edited: string;

before(async () => {
  ws = createWorkspace('edit-errors');
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 8, audio: true });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
  hub = await startMockHub([
    { id: 'stabilityai/gated-svd', commit: 'c0ffee0000000000000000000000000000000002', files: tinySvdRepo(), lfs: isLfs, gatedToken: 'hf_accepted' },
  ]);
});

after(async () => {
  await hub?.close();
  ws?.remove();
});

function run(args: string[], opts: CliOptions = {}) {
  return runVideoshop(['edit', ...args], { ...opts, env: { ...ws.env, ...opts.env } });
}

/** Runs an edit of `video` with `image` into a fresh output folder, expecting it to be refused with `message`. */
async function refused(message: RegExp, o: { video?: string; image?: string; extra?: string[]; env?: CliOptions['env'] } = {}) {
  const outDir = ws.outDir();
  const r = await run([o.video ?? clip, '-e', o.image ?? edited, '-o', path.join(outDir, 'out.mp4'), '--model', ws.model,
    ...FAST, ...(o.extra ?? [])], { env: o.env });
  assertRefused(r, message, outDir);
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

// Refusals are independent and mostly startup time: run a few at once.
describe('refused with one clear line, nothing written', { concurrency: 3 }, () => {
  test('ffmpeg missing: FFMPEG_PATH wrong and none on PATH', async () => {
    const emptyBin = ws.file('empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    await refused(/FFMPEG_PATH=\/nonexistent\/ffmpeg is not an executable file/, { env: { FFMPEG_PATH: '/nonexistent/ffmpeg', PATH: emptyBin } });
    await refused(/ffmpeg not found: install it .*or set FFMPEG_PATH/, { env: { PATH: emptyBin } });
  });

  test('missing video', () => refused(/video not found: .*no-such-video\.mp4/, { video: ws.file('no-such-video.mp4') }));

  test('unreadable video (chmod 000)', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, async () => {
    const locked = ws.file('locked.mp4');
    copyFileSync(clip, locked);
    chmodSync(locked, 0o000);
    await refused(/cannot read video .*locked\.mp4: permission denied/, { video: locked });
  });

  test('truncated video (half of its bytes)', async () => {
    // Index (moov) at the end: cut off entirely.
    const bytes = readFileSync(clip);
    writeFileSync(ws.file('half.mp4'), bytes.subarray(0, bytes.length >> 1));
    await refused(/video is truncated or incomplete \(its MP4 index is missing\): .*half\.mp4/, { video: ws.file('half.mp4') });
    // Index up front: it promises frames the file no longer holds.
    const faststart = ws.file('faststart.mp4');
    await ffmpeg(['-i', clip, '-c', 'copy', '-movflags', '+faststart', faststart]);
    const fs = readFileSync(faststart);
    writeFileSync(ws.file('half-faststart.mp4'), fs.subarray(0, fs.length >> 1));
    await refused(/video is truncated or corrupt \(\d+ of 8 frames present\)/, { video: ws.file('half-faststart.mp4') });
  });

  test('empty file and a video stream without frames', async () => {
    writeFileSync(ws.file('empty.mp4'), '');
    await refused(/video file is empty \(0 bytes\): .*empty\.mp4/, { video: ws.file('empty.mp4') });
    const zero = ws.file('zero-frames.mkv');
    await ffmpeg(['-i', clip, '-c', 'copy', '-bsf:v', 'noise=drop=1', zero]);
    await refused(/video has no frames: .*zero-frames\.mkv/, { video: zero });
  });

  test('a text file named .mp4', async () => {
    writeFileSync(ws.file('notes.mp4'), 'these are my notes, not a video\n');
    await refused(/not a video ffmpeg can read: .*notes\.mp4 \(Invalid data found when processing input\)/, { video: ws.file('notes.mp4') });
  });

  test('corrupt and missing edited frame', async () => {
    writeFileSync(ws.file('corrupt.png'), readFileSync(edited).subarray(0, 300));
    await refused(/cannot read image .*corrupt\.png/, { image: ws.file('corrupt.png') });
    await refused(/image not found: .*no-such-image\.png/, { image: ws.file('no-such-image.png') });
  });

  test('unknown model folder, and a folder that is not a diffusers model', async () => {
    await refused(/\/no-such-model is neither a folder nor a Hub repo id/, { extra: ['--model', ws.file('no-such-model')] });
    const notModel = ws.file('not-a-model');
    mkdirSync(notModel, { recursive: true });
    writeFileSync(path.join(notModel, 'notes.txt'), 'hello\n');
    await refused(/not-a-model has no model_index\.json: it is not a diffusers pipeline/, { extra: ['--model', notModel] });
  });

  test('a Hub id that does not exist, and a gated one without a token (mock Hub on loopback)', async () => {
    const env = { HF_ENDPOINT: hub.url };
    const before = hub.requests.length;
    await refused(new RegExp(`acme/no-such-svd was not found on ${hub.url}`), { extra: ['--model', 'acme/no-such-svd'], env });
    await refused(/stabilityai\/gated-svd is gated: accept its license at .* then set HF_TOKEN=/, { extra: ['--model', 'stabilityai/gated-svd'], env });
    const asked = hub.requests.slice(before);
    assert.ok(asked.some((q) => q.path.startsWith('/api/models/acme/no-such-svd/') && q.status === 404), 'asked the mock for the missing repo');
    assert.ok(asked.some((q) => q.path.includes('/stabilityai/gated-svd/resolve/') && q.status === 401), 'the gated download was refused');
    assert.ok(asked.every((q) => q.auth === null), 'no token was sent');
  });

  test('bad option values name the option', async () => {
    await refused(/--strength must be a number in \(0, 1\], got "2"/, { extra: ['--strength', '2'] });
    await refused(/--steps must be an integer in \[1, 1000\], got "0"/, { extra: ['--steps', '0'] });
    await refused(/--block-overlap 7: must be between 1 and half the block \(5 frames\)/, { extra: ['--block-frames', '10', '--block-overlap', '7'] });
    await refused(/--strength 0\.01 of 4 steps runs no step: raise --strength or --steps/, { extra: ['--strength', '0.01'] });
    await refused(/--size 100x37: both sides must be positive multiples of 4/, { extra: ['--size', '100x37'] });
  });

  test('values that do not parse, and commander\'s own usage errors, are one line too', async () => {
    const cases: [string[], RegExp][] = [
      [['--size', '0x0'], /^videoshop: --size must be a size WxH with whole sides \[16, 131072\], like 1024x576, got "0x0"$/],
      [['--fit', 'stretch'], /^videoshop: --fit must be one of crop, pad, got "stretch"$/],
      [['--steps', 'NaN'], /^videoshop: --steps must be an integer in \[1, 1000\], got "NaN"$/],
      [['--start', '-1'], /^videoshop: --start must be seconds \(12\.5\) or \[h:\]m:s \(1:02\.5\), got "-1"$/],
      [['--no-such-flag'], /^videoshop: unknown option '--no-such-flag' \(see videoshop edit --help\)$/],
    ];
    for (const [extra, message] of cases) {
      const outDir = ws.outDir();
      const r = await run([clip, '-e', edited, '-o', path.join(outDir, 'out.mp4'), '--model', ws.model, ...extra]);
      assertRefused(r, message, outDir);
    }
  });

  test('an output format we do not write, a codec its container cannot hold, a folder that does not exist', async () => {
    const outDir = ws.outDir();
    let r = await run([clip, '-e', edited, '-o', path.join(outDir, 'out.avi'), '--model', ws.model]);
    assertRefused(r, /out\.avi: unknown extension \.avi; use \.mp4, \.mov, \.mkv or \.webm/, outDir);
    r = await run([clip, '-e', edited, '-o', path.join(outDir, 'out.webm'), '--model', ws.model, '--codec', 'h264']);
    assertRefused(r, /\.webm cannot hold h264: use --codec vp9/, outDir);
    r = await run([clip, '-e', edited, '-o', path.join(outDir, 'out.mp4'), '--model', ws.model, '--start', '5']);
    assertRefused(r, /start 5 s is past the last frame/, outDir);
    r = await run([clip, '-e', edited, '-o', path.join(outDir, 'missing', 'out.mp4'), '--model', ws.model]);
    assertRefused(r, /output folder .*missing does not exist/, outDir);
  });

  test('aspect ratio of the edited frame off by more than 1% (without --fit)', async () => {
    const square = await firstFrame(clip, ws.file('square.png'), { box: true, scale: '120:120' });
    await refused(/edited frame is 120×120 but the video is 200×120 \(aspect ratios differ by 66\.7%\).*--fit crop or --fit pad/, { image: square });
  });
});

test('output == input is refused, under any spelling, and the input stays untouched', async () => {
  const outDir = ws.outDir();
  const input = path.join(outDir, 'in.mp4');
  copyFileSync(clip, input);
  symlinkSync('in.mp4', path.join(outDir, 'link.mp4'));
  const before = sha(input);
  let r = await run([input, '-e', edited, '-o', 'in.mp4', '--model', ws.model, '--force'], { cwd: outDir });
  assertRefused(r, /refusing to overwrite the input: in\.mp4 is .*in\.mp4/, outDir, ['in.mp4', 'link.mp4']);
  r = await run([input, '-e', edited, '-o', path.join(outDir, 'link.mp4'), '--model', ws.model, '--force']);
  assertRefused(r, /refusing to overwrite the input/, outDir, ['in.mp4', 'link.mp4']);
  assert.equal(sha(input), before);
});

test('an existing output is kept without --force and replaced with it', async () => {
  const outDir = ws.outDir();
  const out = path.join(outDir, 'out.mp4');
  writeFileSync(out, 'an earlier result the user cares about\n');
  const mtime = statSync(out).mtimeMs;
  const args = [clip, '-e', edited, '-o', out, '--model', ws.model, ...FAST, '-q'];
  const r = await run(args);
  assertRefused(r, /out\.mp4 already exists: choose another output or pass --force to replace it/, outDir, ['out.mp4']);
  assert.equal(readFileSync(out, 'utf8'), 'an earlier result the user cares about\n');
  assert.equal(statSync(out).mtimeMs, mtime);

  const forced = await run([...args, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stderr, '');
  assert.deepEqual(files(outDir), ['out.mp4']);
  const p = await probe(out);
  assert.deepEqual([p.frames, p.width, p.height, p.audio], [8, 200, 120, true]);
});

test('--fit crop accepts an edited frame of another aspect ratio', async () => {
  const square = await firstFrame(clip, ws.file('square-fit.png'), { box: true, scale: '120:120' });
  const outDir = ws.outDir();
  const r = await run([clip, '-e', square, '-o', path.join(outDir, 'out.mp4'), '--model', ws.model, ...FAST, '--fit', 'crop', '--json', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { frames: number; width: number; height: number; warnings: string[] };
  assert.deepEqual([j.frames, j.width, j.height], [8, 200, 120]);
  // The cropped square picture differs from the video's frame nearly everywhere: a global edit, said as such.
  assert.equal(j.warnings.length, 1);
  assert.match(j.warnings[0], /of the first frame, so the whole frame is re-rendered/);
  assert.deepEqual(files(outDir), ['out.mp4']);
});

test('an edited frame identical to the first frame (as ffmpeg exports it) warns, and the edit still runs', async () => {
  const unedited = await firstFrame(clip, ws.file('unedited.png'));
  const outDir = ws.outDir();
  const r = await run([clip, '-e', unedited, '-o', path.join(outDir, 'out.mp4'), '--model', ws.model, ...FAST, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
  assert.deepEqual(warnings, ["warning: the edited frame is identical to the video's first frame: the output will be the source as it is"]);
  const j = JSON.parse(r.stdout) as { frames: number; warnings: string[] };
  assert.equal(j.frames, 8);
  assert.equal(j.warnings.length, 1);
  assert.deepEqual(files(outDir), ['out.mp4']);
});
