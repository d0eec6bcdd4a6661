/**
 * Long videos in blocks (paper §4.2): consecutive blocks of at most the model's frame count, each conditioned on
 * an already edited frame of the previous block. Blocks overlap so that the seam can be cross-faded.
 */
export interface Block {
  /** First frame of the block (inclusive). */
  readonly start: number;
  /** One past the last frame. */
  readonly end: number;
}

/**
 * Covers frames [0, frameCount) with equal-length blocks of `blockFrames` frames that overlap by at least
 * `minOverlap` frames, spread evenly so the last block ends on the last frame.
 */
export function planBlocks(frameCount: number, blockFrames: number, minOverlap: number): Block[] {
  if (!Number.isInteger(frameCount) || frameCount < 1) throw new RangeError(`the video has no frames to edit`);
  if (!Number.isInteger(blockFrames) || blockFrames < 2) throw new RangeError(`block length must be at least 2 frames, got ${blockFrames}`);
  if (!Number.isInteger(minOverlap) || minOverlap < 1 || minOverlap >= blockFrames) {
    throw new RangeError(`block overlap must be between 1 and ${blockFrames - 1} frames, got ${minOverlap}`);
  }
  if (frameCount <= blockFrames) return [{ start: 0, end: frameCount }];
  const count = blockCount(frameCount, blockFrames, minOverlap);
  const blocks: Block[] = [];
  for (let j = 0; j < count; j++) {
    const start = Math.round((j * (frameCount - blockFrames)) / (count - 1));
    blocks.push({ start, end: start + blockFrames });
  }
  return blocks;
}

/** How many blocks planBlocks makes, without making them (estimates of any length stay O(1)). */
export function blockCount(frameCount: number, blockFrames: number, minOverlap: number): number {
  return frameCount <= blockFrames ? 1 : Math.ceil((frameCount - minOverlap) / (blockFrames - minOverlap));
}

/**
 * Weight of the NEW block's frame at absolute index `frame` inside the overlap [overlapStart, overlapEnd) with the
 * previous block: 0 on the overlap's first frame (the frame the new block was conditioned on, kept from the
 * previous block) rising linearly towards 1 at its end.
 */
export function crossfadeWeight(frame: number, overlapStart: number, overlapEnd: number): number {
  const length = overlapEnd - overlapStart;
  if (frame < overlapStart) return 0;
  if (frame >= overlapEnd) return 1;
  return (frame - overlapStart) / length;
}

/** out = (1 − w)·previous + w·next, element-wise. */
export function blendFrames(previous: Float32Array, next: Float32Array, w: number): Float32Array {
  if (previous.length !== next.length) throw new RangeError('blendFrames: frames differ in size');
  const out = new Float32Array(next.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - w) * previous[i] + w * next[i];
  return out;
}
