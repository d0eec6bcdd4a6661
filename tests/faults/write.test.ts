/**
 * Fault injection for writing a video: a full disk, a read-only folder, ffmpeg lying about success, an output that
 * appears while encoding, two writers racing for one output, stale temp files of killed runs. In every case the
 * promise is the same: the output is either the complete, verified new file, or untouched (and no temp file stays).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Tensor } from '../../src/tensor.js';
import { VideoshopError } from '../../src/util/errors.js';
import { FramesPngWriter } from '../../src/video/frames-png.js';
import { probeVideo } from '../../src/video/probe.js';
import { writeVideo } from '../../src/video/write.js';
import { deadPid, listing, mountTmpfs, noise, readOnlyFolder, solid, tmpfsUnavailable } from './helpers.js';

let root: string;
before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'videoshop-faults-write-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const fresh = (): string => {
  const d = path.join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
const fps = { num: 12, den: 1 };

async function rejectsCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof VideoshopError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

test('a full disk (tiny tmpfs): the write fails with one line, nothing is left, a previous output survives', async (t) => {
  const why = tmpfsUnavailable();
  if (why) return t.skip(why);
  const dir = path.join(fresh(), 'full');
  const unmount = mountTmpfs(dir, '192k');
  try {
    const out = path.join(dir, 'out.mp4');
    writeFileSync(out, 'the previous good result');
    const before = sha(out);
    const frames = Array.from({ length: 24 }, (_, i) => noise(160, 120, i + 1));
    await rejectsCode(writeVideo(out, frames, { width: 160, height: 120, fps, crf: 0, preset: 'ultrafast', overwrite: true }), 'disk_full',
      /^no space left on the disk of .*full while writing out\.mp4: free some space or choose another output folder; nothing was written$/);
    assert.deepEqual(listing(dir), ['out.mp4']);
    assert.equal(sha(out), before, 'the previous output is untouched, even with overwrite');
  } finally {
    unmount();
  }
});

test('a read-only folder is refused before any frame is encoded', async () => {
  const dir = path.join(fresh(), 'ro');
  const cleanup = readOnlyFolder(dir);
  try {
    let pulled = 0;
    function* frames(): Generator<Tensor> {
      for (let i = 0; i < 3; i++, pulled++) yield solid(32, 32, 0);
    }
    await rejectsCode(writeVideo(path.join(dir, 'out.mp4'), frames(), { width: 32, height: 32, fps }), 'not_writable', /cannot write into .*ro: (the file system is read-only|permission denied)/);
    assert.equal(pulled, 0, 'no frame was asked for');
  } finally {
    cleanup();
  }
});

/** A stand-in ffmpeg that runs the real one and then damages what it wrote, or lies on stderr, and exits 0. */
function fakeFfmpeg(dir: string, after: string): string {
  const file = path.join(dir, 'ffmpeg');
  writeFileSync(file, `#!/bin/bash\n/usr/bin/ffmpeg "$@" || exit $?\nout="\${@: -1}"; out="\${out#file:}"\n${after}\nexit 0\n`);
  chmodSync(file, 0o755);
  return file;
}

test('ffmpeg exiting 0 is not trusted: a damaged file or an error on stderr fails the write', async () => {
  const cases: [string, string, RegExp][] = [
    ['truncate -s $(( $(stat -c %s "$out") * 2 / 3 )) "$out"', 'verify_failed', /^the written video failed its check \(.*\): nothing was written to .*out\.mp4; check the disk and run again$/],
    ['echo "[mp4 @ 0x1] Error writing trailer of $out: No space left on device" >&2', 'disk_full', /no space left on the disk/],
    ['echo "av_interleaved_write_frame(): Input/output error" >&2', 'encode_failed', /ffmpeg reported an error .*Input\/output error; nothing was written/],
  ];
  const saved = process.env.FFMPEG_PATH;
  try {
    for (const [script, code, message] of cases) {
      const dir = fresh();
      process.env.FFMPEG_PATH = fakeFfmpeg(fresh(), `case "$out" in *.tmp-*) ${script};; esac`);
      await rejectsCode(writeVideo(path.join(dir, 'out.mp4'), Array.from({ length: 6 }, () => solid(32, 32, 0.5)), { width: 32, height: 32, fps }), code, message);
      assert.deepEqual(listing(dir), [], script);
    }
  } finally {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  }
});

test('a variable-rate write: frames off their times are named as such (not the disk), a truncated file still fails', async () => {
  // Gaps doubling, 40 ms … 2.56 s, at the default preset (B-frames): the case that was refused as a disk problem.
  const timestamps = { times: [0, 0.04, 0.12, 0.28, 0.6, 1.24, 2.52, 5.08], end: 7.64 };
  const frames = (): Tensor[] => timestamps.times.map((_, i) => solid(32, 32, i / 8));
  // The encoder's time base swapped for 2/25 s (the rate this ffmpeg guessed from such a stream): frames move.
  const coarse = (): string => {
    const file = path.join(fresh(), 'ffmpeg');
    writeFileSync(file, '#!/bin/bash\nargs=("$@"); for i in "${!args[@]}"; do [ "${args[$i]}" = -enc_time_base ] && args[$((i + 1))]=2:25; done\n' +
      'exec /usr/bin/ffmpeg "${args[@]}"\n');
    chmodSync(file, 0o755);
    return file;
  };
  const truncating = (): string => fakeFfmpeg(fresh(), 'case "$out" in *.tmp-*) truncate -s $(( $(stat -c %s "$out") * 2 / 3 )) "$out";; esac');
  const cases: [() => string, string, RegExp][] = [
    [coarse, 'timing_not_kept', /^the written video does not keep the frame times \(frame 1 at 0\.080000 s, not 0\.040000 s\): nothing was written to .*out\.mp4; please report this/],
    [truncating, 'verify_failed', /^the written video failed its check \(.*\): nothing was written to .*out\.mp4; check the disk and run again$/],
  ];
  const saved = process.env.FFMPEG_PATH;
  try {
    for (const [fake, code, message] of cases) {
      const dir = fresh();
      process.env.FFMPEG_PATH = fake();
      await rejectsCode(writeVideo(path.join(dir, 'out.mp4'), frames(), { width: 32, height: 32, fps: { num: 25, den: 16 }, timestamps }), code, message);
      assert.deepEqual(listing(dir), [], code);
    }
  } finally {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  }
  const out = path.join(fresh(), 'out.mp4');
  await writeVideo(out, frames(), { width: 32, height: 32, fps: { num: 25, den: 16 }, timestamps });
  assert.equal((await probeVideo(out)).frameCount, 8);
});

test('an output that appears while encoding is not replaced, and the result is discarded', async () => {
  const dir = fresh();
  const out = path.join(dir, 'out.mp4');
  async function* frames(): AsyncGenerator<Tensor> {
    for (let i = 0; i < 6; i++) {
      if (i === 3) writeFileSync(out, 'written by someone else meanwhile');
      yield solid(32, 32, 0);
    }
  }
  await rejectsCode(writeVideo(out, frames(), { width: 32, height: 32, fps }), 'output_exists', /appeared while this edit ran .* it was not replaced/);
  assert.equal(readFileSync(out, 'utf8'), 'written by someone else meanwhile');
  assert.deepEqual(listing(dir), ['out.mp4']);
});

test('two writers racing for one output: exactly one wins, its file is complete, the other changes nothing', async () => {
  const dir = fresh();
  const out = path.join(dir, 'out.mp4');
  const write = (count: number) => writeVideo(out, Array.from({ length: count }, () => solid(32, 32, 0)), { width: 32, height: 32, fps });
  const results = await Promise.allSettled([write(10), write(14), write(18)]);
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as VideoshopError).code, 'output_exists');
  const info = await probeVideo(out);
  assert.equal(info.frameCount, (won[0] as PromiseFulfilledResult<{ frameCount: number }>).value.frameCount);
  assert.deepEqual(listing(dir), ['out.mp4']);
});

test('stale temp files of dead runs are removed when a later run targets the same output; live and other ones stay', async () => {
  const dir = fresh();
  const dead = deadPid();
  const stale = [`.out.mp4.tmp-${dead}-0.mp4`, `.out.mp4.tmp-${dead}-0-video.mp4`];
  const kept = [`.out.mp4.tmp-${process.pid}-999.mp4`, `.other.mp4.tmp-${dead}-0.mp4`, 'notes.txt'];
  for (const f of [...stale, ...kept]) writeFileSync(path.join(dir, f), 'x');
  await writeVideo(path.join(dir, 'out.mp4'), [solid(32, 32, 0), solid(32, 32, 0)], { width: 32, height: 32, fps });
  assert.deepEqual(listing(dir), [...kept, 'out.mp4'].sort());
});

test('an output path that is a folder is refused, also with overwrite', async () => {
  const dir = fresh();
  mkdirSync(path.join(dir, 'out.mp4'));
  await rejectsCode(writeVideo(path.join(dir, 'out.mp4'), [solid(32, 32, 0)], { width: 32, height: 32, fps, overwrite: true }), 'output_not_file', /is not a regular file/);
  assert.deepEqual(listing(dir), ['out.mp4']);
});

test('a too-long output name is refused before any frame is encoded', async () => {
  const dir = fresh();
  await rejectsCode(writeVideo(path.join(dir, `${'x'.repeat(240)}.mp4`), [solid(32, 32, 0)], { width: 32, height: 32, fps }), 'name_too_long', /is 244 bytes long: at most \d+ fit/);
  assert.deepEqual(listing(dir), []);
});

test('frame PNGs never replace a file this run did not write, and a failed run removes its own', async () => {
  const dir = fresh();
  writeFileSync(path.join(dir, 'frame_00001.png'), 'the user\'s file');
  assert.throws(() => new FramesPngWriter(dir, 3), (e: VideoshopError) => e.code === 'frames_dir_not_empty' && /already holds frame_00001\.png/.test(e.message));
  const target = path.join(dir, 'sub');
  const writer = new FramesPngWriter(target, 3);
  await writer.write(solid(8, 8, 0), 0);
  writeFileSync(path.join(target, 'frame_00001.png'), 'appeared meanwhile');
  await assert.rejects(writer.write(solid(8, 8, 0), 1), (e: VideoshopError) => e.code === 'frames_dir_not_empty');
  assert.equal(readFileSync(path.join(target, 'frame_00001.png'), 'utf8'), 'appeared meanwhile');
  writer.cleanup();
  assert.deepEqual(listing(target), ['frame_00001.png'], 'only what this run wrote was removed');
  assert.equal(readFileSync(path.join(dir, 'frame_00001.png'), 'utf8'), 'the user\'s file');
});
