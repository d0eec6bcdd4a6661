/**
 * Does a long video cost what its blocks cost, block after block? The long-video issue's "must hold": time per frame
 * of a long video within 10% of a single block's, and memory bounded by one block.
 *
 *   node --import tsx bench/long-video.ts --json                      # the toy model, 1, 5 and 9 blocks
 *   node --import tsx bench/long-video.ts --model <svd> --device cuda --size 1024x576 --blocks 1,5 --json
 *
 * Loads the model once; for each --blocks count B, a synthetic clip (src/scenes) of exactly B blocks (the model's
 * frames per block, then frames-per-block − overlap new frames per further block), edited at the default options
 * (--steps to shorten). Per run: seconds, seconds per output frame, each block's seconds (from the progress events:
 * from a block's first event to the next block's), the peak RSS while it ran (sampled every 50 ms), and what the
 * edit reports per stage. `per_frame_vs_one_block` compares the seconds per output frame with the one-block run's;
 * it cannot be 1 with overlapping blocks: each later block renders frames-per-block frames for
 * frames-per-block − overlap new ones, so `per_block_mean_vs_one_block` (a later block's seconds against the one-block run's, which
 * includes the one-off reading and set-up) and `block_time_growth` (later blocks against earlier ones) are the
 * costs that must not grow. The last line is a summary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { editVideo, loadModel, writeSceneEdit } from '../src/edit/index.js';
import type { Device } from '../src/runtime/session.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    model: { type: 'string', default: 'toy' },
    device: { type: 'string', default: 'cpu' },
    size: { type: 'string', default: '64x64' },
    blocks: { type: 'string', default: '1,5,9' },
    steps: { type: 'string', default: '10' },
  },
});

const round = (x: number, d = 3) => Number(x.toFixed(d));
const [width, height] = values.size.split('x').map(Number);
const steps = Number(values.steps);
const work = mkdtempSync(path.join(os.tmpdir(), 'videoshop-bench-long-'));
const log = (s: string) => process.stderr.write(`${s}\n`);
try {
  const model = await loadModel(values.model, { device: values.device as Device });
  const perBlock = model.numFrames;
  const overlap = Math.min(4, Math.floor(perBlock / 2));
  const runs = [];
  for (const b of values.blocks.split(',').map(Number)) {
    const frames = perBlock + (b - 1) * (perBlock - overlap);
    const { video, editedFrame } = await writeSceneEdit(work, `b${b}`, { width, height, frames, seed: 7 });
    const starts: number[] = [];
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const t0 = performance.now();
    const r = await editVideo({ video, editedFrame, output: path.join(work, `b${b}-out.mkv`), size: { width, height }, steps, codec: 'ffv1' }, {
      model,
      onProgress: (p) => {
        if (p.block != null && starts.length < p.block) starts.push(performance.now());
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    starts.push(performance.now());
    const blockSeconds = starts.slice(1).map((t, i) => round((t - starts[i]) / 1000));
    runs.push({
      blocks: r.blocks.length, frames: r.frames, seconds: round(seconds, 2), s_per_frame: round(seconds / r.frames),
      block_seconds: blockSeconds, peak_rss_gib: round(peak / 2 ** 30), timings_ms: r.timings,
    });
    log(`${r.blocks.length} block(s), ${r.frames} frames: ${seconds.toFixed(1)} s, blocks ${blockSeconds.join(' ')} s, peak RSS ${(peak / 2 ** 30).toFixed(2)} GiB`);
  }
  const one = runs.find((r) => r.blocks === 1);
  const longest = runs.reduce((a, r) => (r.blocks > a.blocks ? r : a), runs[0]);
  const later = longest.block_seconds.slice(1);
  const middle = longest.block_seconds.slice(1, -1);
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
  const summary = {
    summary: true, model: values.model, size: values.size, frames_per_block: perBlock, overlap, steps,
    per_frame_vs_one_block: one ? round(longest.s_per_frame / one.s_per_frame) : null,
    new_frames_share: round((perBlock - overlap) / perBlock),
    // Does a block cost more the longer the video? The blocks between the first (the clip's opening, the model's
    // first calls) and the last (the writer's close): the later half's mean over the earlier half's (1: no growth).
    block_time_growth: middle.length >= 2
      ? round(mean(middle.slice(Math.floor(middle.length / 2))) / mean(middle.slice(0, Math.floor(middle.length / 2)))) : null,
    per_block_mean_vs_one_block: one ? round(mean(later) / one.seconds) : null,
    peak_rss_growth_gib: one ? round(longest.peak_rss_gib - one.peak_rss_gib) : null,
  };
  if (values.json) {
    console.log(JSON.stringify({ runs }));
    console.log(JSON.stringify(summary));
  } else {
    console.log(JSON.stringify(summary, null, 2));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
