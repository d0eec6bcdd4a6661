/**
 * The edit's one progress event, as every surface gets it (the library's onProgress, the CLI's line, the API's job
 * `progress`, the page's bar): the stage with its step k/N, the block j/M, and one fraction and one ETA for the
 * whole video.
 *
 * Within a block the stages are weighted by time: block 1 uses prior weights (the UNet stages dominate: inversion
 * runs ⌊steps·strength⌋ UNet calls, denoising as many at twice the batch for guidance), every later block the times
 * measured on block 1, so the ETA is right from block 2 on whatever the device.
 */
export type EditStage = 'download' | 'load' | 'read' | 'encode' | 'invert' | 'denoise' | 'decode' | 'write';

export interface EditProgress {
  readonly stage: EditStage;
  /** Steps of this stage done, of `total` (frames, UNet calls, or megabytes with unit 'MB'). */
  readonly step: number;
  readonly total: number;
  readonly unit?: string;
  /** 1-based block being edited and the block count (kept through the writer's events); null before the first. */
  readonly block: number | null;
  readonly blocks: number | null;
  /** 0 … 1 over the whole video, never decreasing (download and model loading excluded: they have their own counts). */
  readonly fraction: number;
  /** Seconds left for the whole video; null until enough is done to estimate. */
  readonly etaSeconds: number | null;
  /** Seconds since the first block started. */
  readonly elapsedSeconds: number;
}

export const BLOCK_STAGES = ['read', 'encode', 'invert', 'denoise', 'decode'] as const;
type BlockStage = (typeof BLOCK_STAGES)[number];

const PRIOR_WEIGHTS: Record<BlockStage, number> = { read: 0.02, encode: 0.06, invert: 0.3, denoise: 0.56, decode: 0.06 };

/** What the edit reports at each step; the tracker turns it into an EditProgress. */
export interface StageEvent {
  readonly stage: EditStage;
  readonly step: number;
  readonly total: number;
  readonly unit?: string;
  readonly block?: number;
  readonly blocks?: number;
}

/** Returns a function that folds each event into the whole edit's progress (clock injectable for tests). */
export function progressTracker(now: () => number = () => performance.now() / 1000): (e: StageEvent) => EditProgress {
  let weights: Record<BlockStage, number> = PRIOR_WEIGHTS;
  let start: number | undefined;
  let fraction = 0;
  let block: number | null = null;
  let blocks: number | null = null;
  // Block 1's time per stage, to weight the later blocks.
  const measured: Partial<Record<BlockStage, number>> = {};
  let current: { stage: BlockStage; since: number } | undefined;
  const isBlockStage = (s: string): s is BlockStage => (BLOCK_STAGES as readonly string[]).includes(s);

  return (e) => {
    const t = now();
    if (e.block !== undefined) {
      block = e.block;
      blocks = e.blocks ?? null;
    }
    if (isBlockStage(e.stage) && e.block !== undefined && e.blocks !== undefined) {
      start ??= t;
      if (e.block === 1 && current?.stage !== e.stage) {
        if (current) measured[current.stage] = (measured[current.stage] ?? 0) + (t - current.since);
        current = { stage: e.stage, since: t };
      }
      if (e.block === 2 && current) {
        measured[current.stage] = (measured[current.stage] ?? 0) + (t - current.since);
        current = undefined;
        const sum = BLOCK_STAGES.reduce((a, s) => a + (measured[s] ?? 0), 0);
        if (sum > 0) weights = Object.fromEntries(BLOCK_STAGES.map((s) => [s, (measured[s] ?? 0) / sum])) as Record<BlockStage, number>;
      }
      const index = BLOCK_STAGES.indexOf(e.stage);
      let within = 0;
      for (let i = 0; i < index; i++) within += weights[BLOCK_STAGES[i]];
      within += weights[e.stage] * (e.total > 0 ? Math.min(1, e.step / e.total) : 0);
      fraction = Math.max(fraction, Math.min(1, (e.block - 1 + within) / e.blocks));
    } else if (e.stage === 'write' && e.total > 0 && e.step >= e.total) {
      fraction = 1;
    }
    const elapsedSeconds = start === undefined ? 0 : t - start;
    const etaSeconds = fraction >= 1 ? 0 : fraction > 0.01 && elapsedSeconds > 0 ? (elapsedSeconds * (1 - fraction)) / fraction : null;
    return { stage: e.stage, step: e.step, total: e.total, ...(e.unit ? { unit: e.unit } : {}), block, blocks, fraction, etaSeconds, elapsedSeconds };
  };
}
