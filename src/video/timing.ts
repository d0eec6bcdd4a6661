/** Frame times of a source, for writing a variable-frame-rate edit with every frame where it was. */
import type { VideoInfo } from './probe.js';

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
