/**
 * A job's overall fraction and ETA from the edit's per-stage progress. Within a block the stages take roughly
 * these shares of the time (the UNet calls of inversion and denoising dominate); the blocks are equal.
 */
import type { EditProgress } from '../edit/edit-video.js';
import type { JobProgress } from './store.js';

const BLOCK_STAGES: Record<string, [number, number]> = {
  read: [0, 0.04], encode: [0.04, 0.1], invert: [0.1, 0.5], denoise: [0.5, 0.94], decode: [0.94, 1],
};
/** Loading and reading the first frame before the blocks; writing the tail after them. */
const START = 0.02;
const END = 0.99;

export class ProgressTracker {
  private fraction = 0;
  private readonly started = performance.now();
  private lastBlock: number | null = null;
  private lastBlocks: number | null = null;

  update(p: EditProgress): JobProgress {
    const block = p.block ?? this.lastBlock;
    const blocks = p.blocks ?? this.lastBlocks;
    if (p.block !== undefined) {
      this.lastBlock = p.block;
      this.lastBlocks = p.blocks ?? null;
    }
    const within = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
    let f = this.fraction;
    const span = BLOCK_STAGES[p.stage];
    if (span && p.block && p.blocks) {
      const inBlock = span[0] + (span[1] - span[0]) * within;
      f = START + (END - START) * ((p.block - 1 + inBlock) / p.blocks);
    } else if (p.stage === 'write' && within === 1) {
      f = 1;
    }
    // Never backwards: the writer's frames interleave with the next block's stages.
    this.fraction = Math.max(this.fraction, Math.min(1, f));
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = this.fraction > 0.03 && elapsed > 1 ? Math.max(0, Math.round(elapsed * (1 - this.fraction) / this.fraction)) : null;
    return { stage: p.stage, step: p.step, total: p.total, block: block ?? null, blocks: blocks ?? null, fraction: round(this.fraction), eta_s: eta };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
