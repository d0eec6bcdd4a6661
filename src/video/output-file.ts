/**
 * The life of an output file, apart from encoding it: checks that can fail before any work (folder writable, name
 * short enough, not a folder or a FIFO), hidden temp names that carry the writer's pid (so a later run can remove
 * what a killed run left), verification of the finished temp file with ffprobe, and installing it without a race:
 * without `overwrite` an existing output is never replaced, also one that appeared while the encoder ran
 * (link(2) fails with EEXIST); with `overwrite` a rename replaces it in one step, and only once the new file is good.
 */
import { closeSync, linkSync, lstatSync, openSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { isVideoshopError, msg, option, VideoshopError } from '../util/errors.js';
import { fileArg, ffprobePath, lastErrorLine, runTool } from './ffmpeg.js';
import type { Rational } from './probe.js';

/** Longest file name most file systems take (NAME_MAX, in bytes). */
export const NAME_MAX = 255;
/** What a temp name adds to the output's name: `.` + `.tmp-<pid>-<seq>-video.mp4` with a 7-digit pid, 4-digit seq. */
const TEMP_OVERHEAD = 1 + '.tmp-'.length + 7 + 1 + 4 + '-video.mp4'.length;

const TEMP_NAME = /^\.(.+)\.tmp-(\d+)-(\d+)(?:-video|-probe)?\.mp4$/;
let sequence = 0;

/** A fresh run number: temp names of two writes to one output in one process never collide. */
export function nextRun(): number {
  return sequence++;
}

/** `.<name>.tmp-<pid>-<run><tag>.mp4` next to the output (same folder, so the final rename/link stays on one disk). */
export function tempPathFor(outPath: string, run: number, tag: '' | '-video' | '-probe' = ''): string {
  const abs = path.resolve(outPath);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.tmp-${process.pid}-${run}${tag}.mp4`);
}

export function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Removes temp files of `outPath` left by runs whose process is gone (killed, crashed); returns their names. */
export function removeStaleTemps(outPath: string): string[] {
  const abs = path.resolve(outPath);
  const base = path.basename(abs);
  let names: string[];
  try {
    names = readdirSync(path.dirname(abs));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || m[1] !== base || alive(Number(m[2]))) continue;
    removeQuietly(path.join(path.dirname(abs), name));
    removed.push(name);
  }
  return removed;
}

export interface TargetCheck {
  /** Replace an existing output (default: refuse). */
  overwrite?: boolean;
}

/**
 * Everything about the output path that can be checked before any work: a regular file or nothing, the folder a
 * writable folder, the name short enough for its temp files. Also removes stale temp files of dead runs.
 */
export function checkOutputTarget(outPath: string, opts: TargetCheck = {}): void {
  const abs = path.resolve(outPath);
  const dir = path.dirname(abs);
  const dirInfo = statSync(dir, { throwIfNoEntry: false });
  if (!dirInfo) throw new VideoshopError('output_folder_missing', `output folder ${dir} does not exist`);
  if (!dirInfo.isDirectory()) throw new VideoshopError('output_folder_missing', `output folder ${dir} is not a folder`);
  const bytes = Buffer.byteLength(path.basename(abs));
  if (bytes + TEMP_OVERHEAD > NAME_MAX) {
    throw new VideoshopError('name_too_long', `output name ${path.basename(abs).slice(0, 40)}… is ${bytes} bytes long: at most ${NAME_MAX - TEMP_OVERHEAD} fit (file names hold ${NAME_MAX} bytes, and the temp file adds ${TEMP_OVERHEAD})`);
  }
  const existing = lstatSafe(abs);
  if (existing && !existing.isFile() && !existing.isSymbolicLink()) {
    throw new VideoshopError('output_not_file', `output ${abs} exists and is not a regular file (a folder, FIFO or device): choose another output path`);
  }
  if (existing && !opts.overwrite) {
    throw new VideoshopError('output_exists', msg`${abs} already exists: choose another output or pass ${option('force', true)} to replace it`, { params: { path: abs } });
  }
  removeStaleTemps(abs);
  // Creating (and removing) a temp file is the only honest writability test: permissions, read-only mounts, quotas.
  const probe = tempPathFor(abs, nextRun(), '-probe');
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (err) {
    throw writeFailure(err, abs);
  } finally {
    removeQuietly(probe);
  }
}

function lstatSafe(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

/** A failed write of `outPath` → one VideoshopError line, by errno. */
export function writeFailure(err: unknown, outPath: string): VideoshopError {
  const code = (err as NodeJS.ErrnoException).code;
  const dir = path.dirname(outPath);
  if (code === 'ENOSPC' || code === 'EDQUOT') return diskFull(outPath);
  if (code === 'EACCES' || code === 'EPERM') return new VideoshopError('not_writable', `cannot write into ${dir}: permission denied; choose another output folder`);
  if (code === 'EROFS') return new VideoshopError('not_writable', `cannot write into ${dir}: the file system is read-only; choose another output folder`);
  if (code === 'ENAMETOOLONG') return new VideoshopError('name_too_long', `output name ${path.basename(outPath).slice(0, 40)}… is too long for the file system`);
  return new VideoshopError('write_failed', `cannot write ${outPath}: ${(err as Error).message}`);
}

export function diskFull(outPath: string): VideoshopError {
  return new VideoshopError('disk_full', `no space left on the disk of ${path.dirname(outPath)} while writing ${path.basename(outPath)}: free some space or choose another output folder; nothing was written`);
}

/** ffmpeg can report a failed write (e.g. "Error writing trailer … No space left on device") and still exit 0. */
export function writeErrorIn(stderr: string): string | undefined {
  const line = stderr.split(/\r?\n/).find((l) => /no space left|\berror\b/i.test(l));
  return line === undefined ? undefined : lastErrorLine(line);
}

/** Throws unless ffmpeg exited 0 and printed no error: `what` says what it was doing. */
export function checkFfmpegRun(code: number | null, stderr: string, outPath: string, what: string): void {
  if (/no space left on device/i.test(stderr)) throw diskFull(outPath);
  if (/read-only file system/i.test(stderr)) throw writeFailure(Object.assign(new Error('read-only'), { code: 'EROFS' }), outPath);
  if (code !== 0) throw new VideoshopError('encode_failed', `ffmpeg could not ${what}: ${lastErrorLine(stderr)}`);
  const error = writeErrorIn(stderr);
  if (error) throw new VideoshopError('encode_failed', `ffmpeg reported an error while it was to ${what}: ${error}; nothing was written`);
}

export interface ExpectedVideo {
  width: number;
  height: number;
  frameCount: number;
  fps: Rational;
  /** Expected duration when the frames carry their own timestamps (VFR); default frameCount / fps. */
  seconds?: number;
  /**
   * With timestamps: every frame's time in seconds from the first, each to be found within `tick` seconds (the
   * stream's time base). The container may report any duration from the last frame's time to `seconds` (neither
   * Matroska nor this ffmpeg's MP4 muxer stores the last frame's own duration of a variable-rate stream).
   */
  times?: readonly number[];
  tick?: number;
  audio: boolean;
}

/** The finished temp file must hold what was encoded: one H.264 stream of the size, frame count and duration, audio. */
export async function verifyVideoFile(file: string, outPath: string, want: ExpectedVideo): Promise<void> {
  const args = ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_type,width,height,nb_read_packets,duration:format=duration',
    '-of', 'json', fileArg(file)];
  const { code, stdout, stderr } = await runTool(ffprobePath(), args);
  const fail = (why: string): never => {
    throw new VideoshopError('verify_failed', `the written video failed its check (${why}): nothing was written to ${outPath}; check the disk and run again`);
  };
  if (code !== 0) fail(lastErrorLine(stderr));
  if (stderr.trim()) fail(lastErrorLine(stderr));
  let streams: Record<string, unknown>[];
  let formatSeconds: number;
  try {
    const probed = JSON.parse(stdout) as { streams?: Record<string, unknown>[]; format?: { duration?: unknown } };
    streams = probed.streams ?? [];
    formatSeconds = Number(probed.format?.duration);
  } catch {
    return fail('ffprobe output unreadable');
  }
  const video = streams.filter((s) => s.codec_type === 'video');
  const audio = streams.filter((s) => s.codec_type === 'audio');
  if (video.length !== 1) fail(`${video.length} video streams`);
  const v = video[0];
  if (Number(v.width) !== want.width || Number(v.height) !== want.height) fail(`${v.width}×${v.height}, expected ${want.width}×${want.height}`);
  const packets = Number(v.nb_read_packets);
  if (packets !== want.frameCount) fail(`${packets} frames, expected ${want.frameCount}`);
  const expected = want.seconds ?? (want.frameCount * want.fps.den) / want.fps.num;
  // Matroska/WebM keep no per-stream duration: the container's then (audio is trimmed to the video). So does a
  // variable-rate MP4: its stream duration is the sum of the decoding-order steps, which with B-frames ends where
  // the decoding times end, ahead of the last frame shown by the reorder delay's gaps (gaps of 0.04, 0.08 … 2.56 s:
  // 1.44 s of 5.12 s). Its container duration is where the showing ends.
  const lastFrame = want.times?.at(-1);
  const duration = Number.isFinite(Number(v.duration)) && lastFrame === undefined ? Number(v.duration) : formatSeconds;
  const frame = want.fps.den / want.fps.num;
  const tolerance = 1.5 * frame + 0.01;
  const lower = Math.min(expected, lastFrame ?? expected);
  if (!(duration >= lower - tolerance && duration <= expected + tolerance)) fail(`lasts ${duration} s, expected ${expected.toFixed(3)} s`);
  if (want.audio !== audio.length > 0) fail(want.audio ? 'the audio stream is missing' : 'an unexpected audio stream');
  if (want.times) await verifyFrameTimes(file, outPath, want.times, want.tick ?? 0, fail);
}

/**
 * Every frame of the written video stream is at its time (within `tick` seconds, from the first frame). A frame
 * elsewhere is the writer's fault, not the disk's: that says so.
 */
async function verifyFrameTimes(file: string, outPath: string, times: readonly number[], tick: number, fail: (why: string) => never): Promise<void> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=time_base:packet=pts', '-of', 'json', fileArg(file)];
  const { code, stdout, stderr } = await runTool(ffprobePath(), args);
  if (code !== 0 || stderr.trim()) fail(lastErrorLine(stderr));
  let got: number[];
  try {
    const probed = JSON.parse(stdout) as { streams?: { time_base?: string }[]; packets?: { pts?: number }[] };
    const [num, den] = String(probed.streams?.[0]?.time_base).split('/').map(Number);
    got = (probed.packets ?? []).map((p) => (Number(p.pts) * num) / den).sort((a, b) => a - b);
  } catch {
    return fail('ffprobe output unreadable');
  }
  if (got.length !== times.length || got.some((t) => !Number.isFinite(t))) fail(`${got.length} frame times, expected ${times.length}`);
  const slack = tick + 1e-7;
  const i = times.findIndex((t, k) => !(Math.abs(got[k] - got[0] - (t - times[0])) <= slack));
  if (i >= 0) {
    throw new VideoshopError('timing_not_kept', `the written video does not keep the frame times (frame ${i} at ${(got[i] - got[0]).toFixed(6)} s, ` +
      `not ${(times[i] - times[0]).toFixed(6)} s): nothing was written to ${outPath}; please report this, and meanwhile ` +
      'edit a constant-rate copy of the source (ffmpeg -i SOURCE -fps_mode cfr COPY.mp4)');
  }
}

/**
 * Moves the verified temp file to `outPath`. Without `overwrite`, link(2) creates the name only if it does not exist
 * (atomic, also against another process); file systems without hard links fall back to an exclusive create of the
 * name, then a rename over that placeholder. The temp file is gone afterwards, whatever happened.
 */
export function installFile(temp: string, outPath: string, overwrite: boolean): void {
  const out = path.resolve(outPath);
  try {
    if (overwrite) {
      const existing = lstatSafe(out);
      if (existing && !existing.isFile() && !existing.isSymbolicLink()) {
        throw new VideoshopError('output_not_file', `output ${out} is not a regular file: not replaced`);
      }
      renameSync(temp, out);
      return;
    }
    try {
      linkSync(temp, out);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw appeared(out);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
      try {
        closeSync(openSync(out, 'wx'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw appeared(out);
        throw e;
      }
      renameSync(temp, out);
    }
  } catch (err) {
    if (isVideoshopError(err)) throw err;
    throw writeFailure(err, out);
  } finally {
    removeQuietly(temp);
  }
}

function appeared(out: string): VideoshopError {
  return new VideoshopError('output_exists', msg`${out} appeared while this edit ran (another program or edit wrote it): it was not replaced and this result was discarded; \
choose another output or pass ${option('force', true)} to replace it`, { params: { path: out } });
}
