/**
 * Re-rendering one section (`into`, issue 18): the section (start/duration) is edited again (another seed, another
 * edited frame) and spliced into an earlier result of the same video. Every frame outside the section is the earlier
 * result's own decoded frame, handed to the encoder untouched: with a lossless output (.mkv, ffv1) the new file's
 * decoded frames there are the earlier result's bit for bit; a lossy codec re-encodes them (one generation of loss,
 * and a warning says so). The audio is the earlier result's, copied; the timing is the source's, which the earlier
 * result was written with.
 *
 * Joins: INTO_JOIN_FRAMES frames at each end of the section, inside it, cross-fade linearly from the earlier result
 * to the new edit (the new frame's weight k/(J+1) for the k-th frame from the join), so nothing outside the section
 * changes. A section starting at the first frame or ending at the last has no join there.
 */
import { resizeImage } from '../image/resize.js';
import { blendFrames } from '../pipeline/blocks.js';
import { tensor, type Tensor } from '../tensor.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import type { VideoInfo } from '../video/probe.js';

/** Frames cross-faded at each join (fewer when the section is shorter than two joins). */
export const INTO_JOIN_FRAMES = 4;

/** Refuses an earlier result that is not a whole edit of this video: another frame count, rate or size. */
export function checkInto(into: string, previous: VideoInfo, source: VideoInfo): void {
  const same = previous.frameCount === source.frameCount && previous.width === source.width && previous.height === source.height &&
    previous.fps.num * source.fps.den === source.fps.num * previous.fps.den;
  if (same) return;
  const shape = (v: VideoInfo) => `${v.frameCount} frames at ${Number(v.fpsValue.toFixed(3))} fps, ${v.width}×${v.height}`;
  throw new VideoshopError('bad_input',
    msg`${option('into')} ${into} has ${shape(previous)} but the source has ${shape(source)}: give a result of a whole edit of this video`,
    { field: 'into', params: { into: shape(previous), source: shape(source) } });
}

/** Weight of the new edit at frame `index` (absolute) of a `total`-frame video whose `section` is re-rendered. */
export function joinWeight(index: number, section: { start: number; count: number }, total: number, join = INTO_JOIN_FRAMES): number {
  const end = section.start + section.count;
  if (index < section.start || index >= end) return 0;
  const j = Math.min(join, Math.floor(section.count / 2));
  let w = 1;
  if (section.start > 0 && index - section.start < j) w = Math.min(w, (index - section.start + 1) / (j + 1));
  if (end < total && end - index <= j) w = Math.min(w, (end - index) / (j + 1));
  return w;
}

/**
 * The whole video: `previous`'s frames outside the section as they are, the section's `edited` frames (any size,
 * brought to width×height) cross-faded into them at the joins. Reads both one frame at a time.
 */
export async function* spliceInto(
  previous: AsyncIterable<Tensor>, edited: AsyncIterable<Tensor>,
  o: { section: { start: number; count: number }; total: number; width: number; height: number },
): AsyncGenerator<Tensor> {
  const prev = previous[Symbol.asyncIterator]();
  const next = edited[Symbol.asyncIterator]();
  try {
    for (let i = 0; i < o.total; i++) {
      const p = await prev.next();
      if (p.done) throw new Error(`internal: the earlier result ended before frame ${i}`);
      const w = joinWeight(i, o.section, o.total);
      if (w === 0) {
        yield p.value;
        continue;
      }
      const e = await next.next();
      if (e.done) throw new Error(`internal: the section's edit ended before frame ${i}`);
      const [, h, wd] = e.value.dims;
      const frame = h === o.height && wd === o.width ? e.value : resizeImage(e.value, o.width, o.height);
      yield w === 1 ? frame : tensor(blendFrames(p.value.data, frame.data, w), frame.dims);
    }
    // The section's generator finishes its own work (keep-unedited's mask video) when it runs to its end.
    const rest = await next.next();
    if (!rest.done) throw new Error('internal: the section produced more frames than it holds');
  } finally {
    await prev.return?.(undefined);
    await next.return?.(undefined);
  }
}
