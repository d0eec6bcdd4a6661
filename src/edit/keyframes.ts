/**
 * More than one edited frame (issue 18): the user edits later frames too (where a new side of an object comes into
 * view, or to correct drift). Each keyframe starts a block and conditions the blocks from it on (its CLIP embedding,
 * its conditioning latents, its rescaling target of Eq. 9, its edit region), exactly as the edited first frame
 * conditions the first block, so the output passes through every keyframe.
 *
 * Time base: a keyframe's time is the SOURCE's (seconds from its first frame, the first frame at or after it), the
 * time `videoshop frame --time T` exports the frame at; `#N` is the source's frame index (`frame --index N`).
 * Neither is relative to `--start`.
 *
 * Blocks: the keyframes cut the section into spans; each span is planned as a video of its own (planBlocks: equal
 * blocks, overlaps cross-faded), and spans meet without overlap: the keyframe's block takes over on the keyframe
 * itself (a cross-fade there would pull the output away from the frame the user drew).
 */
import { planBlocks, type Block } from '../pipeline/blocks.js';
import { msg, option, VideoshopError, type MessagePart } from '../util/errors.js';
import { frameTime, segmentFrames, type FrameClock } from '../video/timing.js';
import { keyframeText, type Keyframe } from './schema.js';

export interface PlacedKeyframe extends Keyframe {
  /** The source's frame index. */
  readonly index: number;
  /** Frames from the section's first frame. */
  readonly offset: number;
}

function refuse(k: Keyframe, what: string | readonly MessagePart[]): VideoshopError {
  const parts: MessagePart[] = [option('keyframe', keyframeText(k)), ': ', ...(typeof what === 'string' ? [what] : what)];
  return new VideoshopError('bad_option', parts, { field: 'keyframe', params: { value: keyframeText(k) } });
}

/**
 * The keyframes' frames, in order. Refused: past the video's end, outside the section, on the section's first frame
 * (that frame is the edited frame's), two on one frame.
 */
export function placeKeyframes(info: FrameClock, section: { start: number; count: number }, keyframes: readonly Keyframe[]): PlacedKeyframe[] {
  const last = info.frameCount - 1;
  const placed = keyframes.map((k): PlacedKeyframe => {
    let index: number;
    if (k.frame !== undefined) {
      if (k.frame > last) throw refuse(k, `frame ${k.frame} is past the end (the video has frames 0–${last})`);
      index = k.frame;
    } else {
      const t = k.time ?? 0;
      const end = frameTime(info, last);
      if (t > end + 1e-6) throw refuse(k, `${t} s is past the last frame (at ${end.toFixed(3)} s)`);
      index = segmentFrames(info, t).start;
    }
    const sectionEnd = section.start + section.count;
    if (index < section.start || index >= sectionEnd) {
      throw refuse(k, msg`frame ${index} is outside the edited section (frames ${section.start}–${sectionEnd - 1}, set by ${option('start')} and ${option('duration')})`);
    }
    if (index === section.start) throw refuse(k, msg`frame ${index} is the section's first frame, which ${option('edited-frame')} edits: give that image as ${option('edited-frame')}`);
    return { ...k, index, offset: index - section.start };
  });
  placed.sort((a, b) => a.index - b.index);
  for (let i = 1; i < placed.length; i++) {
    if (placed[i].index === placed[i - 1].index) throw refuse(placed[i], `${keyframeText(placed[i - 1])} is frame ${placed[i].index} too: two keyframes on one frame`);
  }
  return placed;
}

/** Frames a keyframe's span must hold at least: a span shorter than the block overlap would sit in one overlap. */
export function minKeyframeGap(blockOverlap: number): number {
  return Math.max(2, blockOverlap);
}

/**
 * Refuses keyframes closer than minKeyframeGap to the one before (the edited first frame counting as one) or to the
 * section's end: each keyframe starts a block, and two of them in one overlap leave a block too short to edit.
 */
export function checkKeyframeSpacing(placed: readonly PlacedKeyframe[], frames: number, blockOverlap: number): void {
  const gap = minKeyframeGap(blockOverlap);
  let previous = 0;
  for (const k of placed) {
    if (k.offset - previous < gap) {
      throw refuse(k, `frame ${k.index} is ${k.offset - previous} frame${k.offset - previous === 1 ? '' : 's'} after the ${previous === 0 ? 'edited first frame' : 'keyframe before it'}; ` +
        `keyframes start blocks and must be at least ${gap} frames apart (the block overlap): drop one or move it`);
    }
    previous = k.offset;
  }
  const lastKey = placed.at(-1);
  if (lastKey && frames - lastKey.offset < gap) {
    throw refuse(lastKey, `frame ${lastKey.index} leaves ${frames - lastKey.offset} frame${frames - lastKey.offset === 1 ? '' : 's'} to the section's end; ` +
      `a keyframe starts a block of at least ${gap} frames: move it earlier or drop it`);
  }
}

/** Spans [cut_i, cut_{i+1}) of `frames` cut at each keyframe offset (those before `frames`). */
export function keyframeSpans(frames: number, offsets: readonly number[]): Block[] {
  const cuts = [0, ...offsets.filter((o) => o > 0 && o < frames), frames];
  return cuts.slice(0, -1).map((start, i) => ({ start, end: cuts[i + 1] }));
}

/** planBlocks over each span, in section frames: every keyframe starts a block; spans meet without overlap. */
export function planKeyframeBlocks(frames: number, blockFrames: number, overlap: number, offsets: readonly number[]): Block[] {
  if (!offsets.length) return planBlocks(frames, blockFrames, overlap);
  return keyframeSpans(frames, offsets).flatMap((span) =>
    planBlocks(span.end - span.start, blockFrames, Math.min(overlap, blockFrames - 1)).map((b) => ({ start: b.start + span.start, end: b.end + span.start })));
}
