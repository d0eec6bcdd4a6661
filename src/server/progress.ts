/**
 * A job's progress as the API reports it: the edit's own overall fraction and ETA across blocks (editVideo puts
 * them on every event, see src/edit/progress.ts), plus the block j/M that the per-block stages carry, kept while
 * the writer's events (which carry none) interleave.
 */
import type { EditProgress } from '../edit/edit-video.js';
import type { JobProgress } from './store.js';

export class ProgressTracker {
  private fraction = 0;
  private lastBlock: number | null = null;
  private lastBlocks: number | null = null;

  update(p: EditProgress): JobProgress {
    if (p.block !== undefined) {
      this.lastBlock = p.block;
      this.lastBlocks = p.blocks ?? null;
    }
    // Never backwards (the edit's fraction is monotone already; this also covers events without one).
    this.fraction = Math.max(this.fraction, p.overall?.fraction ?? 0);
    const eta = p.overall?.etaSeconds;
    return {
      stage: p.stage, step: p.step, total: p.total, block: this.lastBlock, blocks: this.lastBlocks,
      fraction: round(this.fraction), eta_s: eta === undefined ? null : Math.max(0, Math.round(eta)),
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
