/**
 * Cuts one decoded stream of frames into the overlapping blocks of `planBlocks`: the video is decoded once, and
 * only the frames the next block shares with the current one are kept, so memory stays at one block.
 */
import type { Block } from '../pipeline/blocks.js';
import type { Tensor } from '../tensor.js';

/**
 * Yields each block's frames in order. `blocks` must start in ascending order and leave no frame out (as
 * planBlocks makes them); `onFrame` is called for every frame read (1-based count).
 */
export async function* framesInBlocks(
  frames: AsyncIterable<Tensor>,
  blocks: readonly Block[],
  onFrame?: (read: number) => void,
): AsyncGenerator<Tensor[]> {
  const it = frames[Symbol.asyncIterator]();
  let kept: Tensor[] = [];
  let keptStart = 0; // index of kept[0]
  let read = 0;
  try {
    for (const block of blocks) {
      if (block.start < keptStart || block.start > keptStart + kept.length) {
        throw new Error(`internal: block ${block.start}–${block.end} does not follow frames ${keptStart}–${keptStart + kept.length}`);
      }
      kept = kept.slice(block.start - keptStart);
      keptStart = block.start;
      while (keptStart + kept.length < block.end) {
        const next = await it.next();
        if (next.done) throw new Error(`internal: the video ended after ${read} frames, block needs ${block.end}`);
        kept.push(next.value);
        read++;
        onFrame?.(read);
      }
      yield kept.slice(0, block.end - keptStart);
    }
  } finally {
    await it.return?.();
  }
}
