/** Frame times of a source, for writing a variable-frame-rate edit with every frame where it was. */
import { msg, option, VideoshopError } from '../util/errors.js';
import type { VideoInfo } from './probe.js';

/** What frame times are read from: every frame's timestamp, or a constant rate (an estimate's view of a video). */
export type FrameClock = Pick<VideoInfo, 'frameCount' | 'fps' | 'pts' | 'timeBase'>;

export interface FrameTimes {
  /** Seconds from the first written frame, one per frame. */
  readonly times: readonly number[];
  /** When the last frame ends (its duration: the interval before it, as players assume). */
  readonly end: number;
}

/**
 * The times of frames [start, start + count) relative to frame `start`, or undefined for a constant-rate source
 * (then the exact rational rate is written instead) or when the timestamps are incomplete.
 */
export function frameTimes(info: VideoInfo, start = 0, count = info.frameCount - start): FrameTimes | undefined {
  if (!info.vfr || info.pts.length !== info.frameCount || count < 1) return undefined;
  const tb = info.timeBase.num / info.timeBase.den;
  const origin = info.pts[start];
  const times = info.pts.slice(start, start + count).map((p) => (p - origin) * tb);
  const lastIndex = start + count - 1;
  const next = lastIndex + 1 < info.pts.length ? info.pts[lastIndex + 1] : undefined;
  const lastDuration = next !== undefined ? (next - info.pts[lastIndex]) * tb
    : lastIndex > 0 ? (info.pts[lastIndex] - info.pts[lastIndex - 1]) * tb : info.fps.den / info.fps.num;
  return { times, end: times[times.length - 1] + lastDuration };
}

/**
 * The frames [start, start + count) of `startSeconds` … `startSeconds + durationSeconds` (times from the first
 * frame): from the first frame at or after the start (1 µs of slack) to the last one that starts before the end.
 */
export function segmentFrames(info: FrameClock, startSeconds = 0, durationSeconds?: number): { start: number; count: number } {
  if (!(startSeconds >= 0) || !Number.isFinite(startSeconds)) {
    throw new VideoshopError('bad_option', msg`${option('start')} must be a time ≥ 0 in seconds, got ${startSeconds}`, { field: 'start', params: { value: startSeconds } });
  }
  if (durationSeconds !== undefined && !(durationSeconds > 0 && Number.isFinite(durationSeconds))) {
    throw new VideoshopError('bad_option', msg`${option('duration')} must be a positive time in seconds, got ${durationSeconds}`,
      { field: 'duration', params: { value: durationSeconds } });
  }
  const tb = info.timeBase.num / info.timeBase.den;
  const times = info.pts.length === info.frameCount
    ? info.pts.map((p) => (p - info.pts[0]) * tb)
    : Array.from({ length: info.frameCount }, (_, i) => (i * info.fps.den) / info.fps.num);
  const eps = 1e-6;
  const start = times.findIndex((t) => t >= startSeconds - eps);
  if (start < 0) {
    const last = times[times.length - 1];
    throw new VideoshopError('bad_option', msg`${option('start')} ${startSeconds} s is past the last frame (at ${last.toFixed(3)} s)`,
      { field: 'start', params: { value: startSeconds, last } });
  }
  let end = times.length;
  if (durationSeconds !== undefined) {
    const stop = startSeconds + durationSeconds;
    end = times.findIndex((t) => t >= stop - eps);
    if (end < 0) end = times.length;
  }
  return { start, count: Math.max(1, end - start) };
}

/** The time of frame `index` in seconds from the first frame. */
export function frameTime(info: FrameClock, index: number): number {
  if (info.pts.length === info.frameCount) return ((info.pts[index] - info.pts[0]) * info.timeBase.num) / info.timeBase.den;
  return (index * info.fps.den) / info.fps.num;
}

export interface PlacedTimes extends FrameTimes {
  /** Frames that had to move past their rounded time: closer than one tick to the frame before (or at its time). */
  readonly pushed: number;
  /** The most any frame moved from its own time, in seconds (at most half a tick when none was pushed). */
  readonly moved: number;
}

/**
 * The times as a container with time base `tb` stores them: each frame's rounded to the nearest tick and, where
 * that is not after the frame before (frames closer than a tick, or at one time), one tick after that one, so that
 * every frame keeps a time of its own; the end at least a tick after the last. Exact multiples of the tick, so
 * what the encoder and muxer get is what they store.
 */
export function placeTimes(ts: FrameTimes, tb: { num: number; den: number }): PlacedTimes {
  const ticks: number[] = [];
  let pushed = 0;
  let moved = 0;
  const seconds = (tick: number): number => (tick * tb.num) / tb.den;
  for (const t of ts.times) {
    let tick = Math.round((t * tb.den) / tb.num);
    const previous = ticks.at(-1);
    if (previous !== undefined && tick <= previous) {
      tick = previous + 1;
      pushed++;
    }
    ticks.push(tick);
    moved = Math.max(moved, Math.abs(seconds(tick) - t));
  }
  const end = Math.max(Math.round((ts.end * tb.den) / tb.num), ticks[ticks.length - 1] + 1);
  return { times: ticks.map(seconds), end: seconds(end), pushed, moved };
}
