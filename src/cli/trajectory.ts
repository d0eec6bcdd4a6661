/** `videoshop analyze-trajectory`: the paper's Fig. 3 diagnostic (how straight SVD's denoising trajectory is). */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_MODEL, explainFailure, msg, option, VideoshopError } from '../edit/index.js';
import { trajectoryCsv, type TrajectoryStats } from '../eval/index.js';
import {
  analyzeTrajectory, DEFAULT_TRAJECTORY_SEED, DEFAULT_TRAJECTORY_STEPS, PAPER_TRAJECTORY_STATS, type TrajectoryAnalysis,
} from '../eval/run-trajectory.js';
import { intArg, sizeArg } from './args.js';
import { createProgress, messagePrinter } from './progress.js';

interface TrajectoryFlags {
  model: string;
  steps: number;
  seed: number;
  size?: { width: number; height: number };
  frames?: number;
  csv?: string;
  device: 'cpu' | 'cuda' | 'webgpu';
  dtype?: 'float32' | 'float16';
  quiet: boolean;
  json: boolean;
}

const STAT_ROWS: readonly { key: keyof TrajectoryStats; label: string }[] = [
  { key: 'meanAllPairs', label: 'mean over all pairs t ≠ t\'' },
  { key: 'meanAdjacent', label: 'mean over adjacent pairs (t, t+1)' },
  { key: 'minAdjacent', label: 'min over adjacent pairs (t, t+1)' },
];

export function addTrajectoryCommand(program: Command, print: (line: string) => void): void {
  program
    .command('analyze-trajectory')
    .description('generate with SVD from the video\'s first frame and measure how straight the denoising trajectory is ' +
      '(cosine similarity of x_t − x_0 across steps, the paper\'s Fig. 3)')
    .argument('<video>', 'video whose first frame conditions the generation')
    .option('--model <id|folder>', 'Hugging Face repo id or local diffusers folder', DEFAULT_MODEL)
    .option('--steps <n>', 'denoising steps', intArg('steps'), DEFAULT_TRAJECTORY_STEPS)
    .option('--seed <n>', 'seed of the initial noise', intArg('seed'), DEFAULT_TRAJECTORY_SEED)
    .option('--size <WxH>', 'generation size, sides multiples of 64 for SVD (default: the video\'s aspect ratio at the model\'s native area)', sizeArg)
    .option('--frames <n>', 'frames generated (default: the model\'s, at most the video\'s frame count)', intArg('frames'))
    .option('--csv <file>', 'write the cosine-similarity matrix as CSV (rows and columns labelled with σ)')
    .addOption(new Option('--device <device>', 'where the networks run').choices(['cpu', 'cuda', 'webgpu']).default('cpu'))
    .addOption(new Option('--dtype <type>', 'compute precision (default float32 on cpu, float16 on GPUs)').choices(['float32', 'float16']))
    .option('-q, --quiet', 'no progress output', false)
    .option('--json', 'print one JSON object (statistics, the paper\'s values, σ labels, the matrix)', false)
    .action(async (video: string, flags: TrajectoryFlags) => {
      await runTrajectory(video, flags, print);
    });
}

async function runTrajectory(video: string, flags: TrajectoryFlags, print: (line: string) => void): Promise<void> {
  if (flags.csv) checkCsvPath(flags.csv, video);
  const bar = createProgress({ quiet: flags.quiet });
  let result: TrajectoryAnalysis;
  try {
    result = await analyzeTrajectory({
      video, model: flags.model, steps: flags.steps, seed: flags.seed, size: flags.size, frames: flags.frames,
      device: flags.device, dtype: flags.dtype,
    }, {
      onProgress: (p) => bar.update(p),
      onNotice: messagePrinter(bar, flags.quiet, 'note'),
    });
  } catch (err) {
    throw explainFailure(err);
  } finally {
    bar.done();
  }
  const labels = result.sigmas.map(sigmaLabel);
  if (flags.csv) {
    try {
      writeFileSync(flags.csv, trajectoryCsv(result.matrix, labels));
    } catch (err) {
      throw new VideoshopError('write_failed', `cannot write ${flags.csv}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (flags.json) {
    const n = result.matrix.size;
    print(JSON.stringify({
      ...result.stats,
      paper: PAPER_TRAJECTORY_STATS,
      frames: result.frames, steps: result.steps, seed: result.seed, size: result.size, model: result.model,
      sigmas: labels.map(Number),
      matrix: Array.from({ length: n }, (_, i) => Array.from(result.matrix.values.subarray(i * n, (i + 1) * n))),
      ...(flags.csv ? { csv: flags.csv } : {}),
    }));
    return;
  }
  print(`cosine similarity of x_t − x_0 over ${result.matrix.size} states x_T … x_1 (${result.steps} steps, seed ${result.seed}, ` +
    `${result.frames} frames at ${result.size.width}×${result.size.height})`);
  const width = Math.max(...STAT_ROWS.map((r) => r.label.length));
  print(`${''.padEnd(width)}  this run  paper (SVD, 100 videos)`);
  for (const row of STAT_ROWS) {
    print(`${row.label.padEnd(width)}  ${result.stats[row.key].toFixed(4).padStart(8)}  ${PAPER_TRAJECTORY_STATS[row.key].toFixed(4)}`);
  }
  if (flags.csv) print(`wrote the ${result.matrix.size}×${result.matrix.size} matrix to ${flags.csv}`);
}

/** Fails before the (long) generation rather than after it. */
function checkCsvPath(csv: string, video: string): void {
  const same = path.resolve(csv) === path.resolve(video) || (existsSync(csv) && existsSync(video) && statSync(csv).ino === statSync(video).ino);
  if (same) throw new VideoshopError('bad_input', msg`refusing to overwrite the input: ${option('csv')} ${csv} is the video; choose another file`);
  const dir = path.dirname(path.resolve(csv));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new VideoshopError('bad_input', msg`${option('csv')}: folder ${dir} does not exist`);
}

/** σ as float32 holds it, without float noise in the label (700.0000610… → 700). */
function sigmaLabel(sigma: number): string {
  return String(Number(sigma.toPrecision(6)));
}
