/** `videoshop edit`: the main job, for a person at a terminal (progress, Ctrl-C) or a script (--json). */
import { Option, type Command } from 'commander';
import { editVideo, type EditProgress } from '../edit/edit-video.js';
import { PREVIEW_STEPS } from '../edit/options.js';
import type { EditOptions } from '../edit/options.js';
import { DEFAULT_MODEL } from '../models/svd.js';
import { DEFAULT_OPTIONS, resolveOptions, type VideoshopOptions } from '../pipeline/options.js';
import { UserError } from './errors.js';
import { parseIntArg, parseNumberArg, parseSizeArg } from './args.js';
import { createEditDisplay } from './edit-progress.js';
import { createProgress, messagePrinter } from './progress.js';
import { addVideoOptions, videoOptionsOf, type VideoFlags } from './video-options.js';

export interface EditFlags extends VideoFlags {
  editedFrame: string;
  output: string;
  model: string;
  strength?: number;
  steps?: number;
  guidance?: number;
  minGuidance?: number;
  maxGuidance?: number;
  seed?: number;
  noiseAug?: number;
  motionBucket?: number;
  fpsCond?: number;
  threshold?: number | false;
  naiveInversion: boolean;
  normalization?: VideoshopOptions['normalization'];
  rescale: boolean;
  device: 'cpu' | 'cuda' | 'webgpu';
  dtype?: 'float32' | 'float16';
  size?: { width: number; height: number };
  fit?: 'crop' | 'pad';
  blockFrames?: number;
  blockOverlap?: number;
  framesDir?: string;
  force: boolean;
  quiet: boolean;
  verbose: boolean;
  json: boolean;
  threads?: number;
  preview: boolean;
}


export function addEditCommand(program: Command, print: (line: string) => void): void {
  const d = DEFAULT_OPTIONS;
  addVideoOptions(program
    .command('edit')
    .description('propagate an edit of the first frame to the whole video')
    .argument('<video>', 'source video (any format ffmpeg reads: mp4, mov, webm, avi, gif…)')
    .requiredOption('-e, --edited-frame <image>', 'the first frame, edited in any image editor (png, jpg, webp…)')
    .requiredOption('-o, --output <file>', 'where to write the edited video: .mp4/.mov (H.264), .mkv, .webm (VP9); source size, timing, colour and audio')
    .option('--model <id|folder>', 'Hugging Face repo id or local diffusers folder', DEFAULT_MODEL)
    .option('--strength <s>', `fraction of the noise schedule inverted and re-denoised, (0, 1] (default ${d.strength})`, parseNumberArg('--strength'))
    .option('--steps <n>', `steps of the full schedule (default ${d.steps}; ⌊steps·strength⌋ run)`, parseIntArg('--steps'))
    .option('--guidance <g>', 'classifier-free guidance for every frame (sets min and max)', parseNumberArg('--guidance'))
    .option('--min-guidance <g>', `guidance on the first frame, ramping linearly to --max-guidance (default ${d.minGuidance})`, parseNumberArg('--min-guidance'))
    .option('--max-guidance <g>', `guidance on the last frame (default ${d.maxGuidance}; ≤ 1 turns guidance off)`, parseNumberArg('--max-guidance'))
    .option('--seed <n>', `seed of every random draw (default ${d.seed})`, parseIntArg('--seed'))
    .option('--noise-aug <a>', `noise added to the conditioning frame (default ${d.noiseAug})`, parseNumberArg('--noise-aug'))
    .option('--motion-bucket <n>', `SVD motion bucket id (default ${d.motionBucket})`, parseIntArg('--motion-bucket'))
    .option('--fps-cond <n>', `frame rate SVD is conditioned on (default ${d.fps}, as the reference)`, parseNumberArg('--fps-cond'))
    .option('--threshold <sigma>', `noise level Σ below which inversion uses fresh noise instead of extrapolating (default ${d.threshold})`, parseNumberArg('--threshold'))
    .option('--no-threshold', 'ablation: always extrapolate (divides by σ = 0: NaN, as the paper\'s Table 5)')
    .option('--naive-inversion', 'ablation: invert without noise extrapolation (paper Eq. 5)', false)
    .addOption(new Option('--normalization <mode>', `latent normalization before inversion (default ${d.normalization}: the reference's; per-channel: the paper's; none: ablation)`)
      .choices(['per-frame-centered', 'per-channel', 'none']))
    .option('--no-rescale', 'ablation: do not rescale the output latents to the edited frame\'s statistics')
    .addOption(new Option('--device <device>', 'where the networks run').choices(['cpu', 'cuda', 'webgpu']).default('cpu'))
    .addOption(new Option('--dtype <type>', 'compute precision (default float32 on cpu, float16 on GPUs)').choices(['float32', 'float16']))
    .option('--size <WxH>', 'processing size, sides multiples of 64 for SVD (default: the source\'s aspect ratio at about the model\'s native 1024×576 area)', parseSizeArg)
    .addOption(new Option('--fit <mode>', 'when the edited frame\'s aspect ratio differs from the video\'s by > 1%: crop or pad it (default: refuse)').choices(['crop', 'pad']))
    .option('--block-frames <n>', 'frames per block for long videos (default: the model\'s, 14 for SVD)', parseIntArg('--block-frames'))
    .option('--block-overlap <n>', 'frames shared and cross-faded by consecutive blocks (default 4)', parseIntArg('--block-overlap'))
    .option('--frames-dir <dir>', 'also write every output frame as PNG into this folder')
    .option('--preview', 'a fast look before the full run: a quarter of the pixels, half the steps (unless --steps), ' +
      'the first block only; trades detail, sharpness and length for ~10× less time', false)
    .option('--threads <n>', 'CPU threads for the networks (default: all physical cores)', parseIntArg('--threads'))
    .option('--force', 'replace the output file if it exists', false)
    .option('-q, --quiet', 'print only the output path', false)
    .option('-v, --verbose', 'one progress line per stage and block instead of one live line for the whole edit', false)
    .option('--json', 'print a JSON result (timings per stage) on stdout; errors too, as {"error": {"code", "message"}}', false)
    .action(async (video: string, flags: EditFlags) => {
      await runEdit(video, flags, print);
    }));
}

async function runEdit(video: string, flags: EditFlags, print: (line: string) => void): Promise<void> {
  const opts = editOptionsFromFlags(video, flags);
  const controller = new AbortController();
  // SIGTERM (kill, systemd, docker stop) and SIGHUP (terminal closed) clean up exactly like Ctrl-C.
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.once(s, onSignal);
  const bar = flags.quiet ? { update() {}, done() {} } : flags.verbose ? verboseDisplay() : createEditDisplay();
  const warn = messagePrinter(bar, flags.quiet, 'warning');
  try {
    const result = await editVideo({ ...opts, signal: controller.signal }, {
      onProgress: (p: EditProgress) => bar.update(p),
      onWarning: warn,
    });
    bar.done();
    if (flags.json) print(JSON.stringify(result));
    else if (flags.quiet) print(result.output);
    else {
      process.stderr.write(`wrote ${result.output}: ${result.frames} frames, ${result.width}×${result.height}, ` +
        `${result.fps.toFixed(3).replace(/\.?0+$/, '')} fps, audio ${result.audio}, in ${(result.timings.total / 1000).toFixed(1)} s\n`);
    }
  } catch (err) {
    bar.done();
    if (controller.signal.aborted) {
      const why = stoppedBy === 'SIGINT' || !stoppedBy ? 'Ctrl-C' : stoppedBy;
      throw new UserError(`stopped (${why}): no output was written`, 128 + (STOP_SIGNALS_NUMBER[stoppedBy ?? 'SIGINT'] ?? 2), 'interrupted');
    }
    throw withFlagHint(explainRuntimeError(err), flags);
  } finally {
    for (const s of STOP_SIGNALS) process.removeListener(s, onSignal);
  }
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const STOP_SIGNALS_NUMBER: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Library errors say what is wrong in API terms (error `code`); here the flag that changes it is named. */
function withFlagHint(err: unknown, flags: EditFlags): unknown {
  const code = (err as { code?: unknown }).code;
  if (!(err instanceof Error) || typeof code !== 'string') return err;
  const hinted = withFlag(err, code, flags);
  // The hinted error keeps the library error's `code` (what `--json` reports).
  return hinted === err ? err : new UserError(hinted.message, (hinted as UserError).exitCode, code);
}

function withFlag(err: Error, code: string, flags: EditFlags): Error {
  if (code === 'output-exists') {
    const appeared = /appeared while/.test(err.message);
    return new UserError(appeared
      ? `${flags.output} appeared while this edit ran: it was not replaced and this result was discarded; choose another output or pass --force to replace it`
      : `${flags.output} already exists: choose another output or pass --force to replace it`);
  }
  if (code === 'aspect-mismatch') return new UserError(err.message.replace(/choose fit 'crop' or 'pad'$/, 'pass --fit crop or --fit pad'));
  if (code === 'bad-size') return new UserError(err.message.replace(/^processing size /, '--size '));
  if (code === 'bad-overlap') return new UserError(err.message.replace(/^block overlap /, '--block-overlap '));
  if (code === 'too-large') return new UserError(`${err.message.replace(/: choose .*$/, '')}: choose a smaller --size or fewer --block-frames`);
  if (code === 'frames-dir-not-empty') return new UserError(`--frames-dir ${err.message.replace(/^frames folder /, '')}`);
  return err;
}

/** The edit's options from the command's flags (also the server's job options), validated; errors name the flag. */
export function editOptionsFromFlags(video: string, flags: EditFlags): EditOptions {
  const method: EditOptions['method'] = {
    steps: flags.steps ?? (flags.preview ? PREVIEW_STEPS : undefined),
    strength: flags.strength,
    minGuidance: flags.guidance ?? flags.minGuidance,
    maxGuidance: flags.guidance ?? flags.maxGuidance,
    seed: flags.seed,
    noiseAug: flags.noiseAug,
    motionBucket: flags.motionBucket,
    fps: flags.fpsCond,
    threshold: flags.threshold === false ? null : flags.threshold,
    inversion: flags.naiveInversion ? 'naive' : undefined,
    normalization: flags.normalization,
    rescale: flags.rescale,
  };
  checkMethod(method, flags);
  if (flags.threads !== undefined && !(flags.threads >= 1 && flags.threads <= 1024)) throw new UserError('--threads must be between 1 and 1024');
  return {
    video, editedFrame: flags.editedFrame, output: flags.output, model: flags.model, device: flags.device,
    dtype: flags.dtype, size: flags.size, fit: flags.fit, force: flags.force, framesDir: flags.framesDir,
    blockFrames: flags.blockFrames, blockOverlap: flags.blockOverlap, method, threads: flags.threads, preview: flags.preview,
    ...videoOptionsOf(flags),
  };
}

function stageLabel(p: EditProgress): string {
  return p.blocks && p.blocks > 1 ? `${p.stage} ${p.block}/${p.blocks}` : p.stage;
}

/** --verbose: a line (bar, k/N, ETA of the stage) per stage and block. */
function verboseDisplay(): { update(p: EditProgress): void; done(): void } {
  const sink = createProgress();
  return { update: (p) => sink.update({ stage: stageLabel(p), step: p.step, total: p.total, unit: p.unit }), done: () => sink.done() };
}

/** The flag that sets each method option, for error messages in the user's terms. */
export const FLAG_OF: Record<string, string> = {
  steps: '--steps', strength: '--strength', minGuidance: '--min-guidance', maxGuidance: '--max-guidance', seed: '--seed',
  noiseAug: '--noise-aug', motionBucket: '--motion-bucket', fps: '--fps-cond', threshold: '--threshold',
};

/** Validates the method's options up front; the message names the flag ("--steps must be …"), not the API field. */
function checkMethod(method: EditOptions['method'], flags: EditFlags): void {
  try {
    resolveOptions(method);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const named = err.message.replace(/^(\w+)/, (key) =>
      (key === 'minGuidance' || key === 'maxGuidance') && flags.guidance !== undefined ? '--guidance' : FLAG_OF[key] ?? key);
    throw new UserError(named);
  }
}

/** ONNX Runtime's allocation failures become one actionable line. */
export function explainRuntimeError(err: unknown): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (/bad_alloc|bad allocation|Failed to allocate|out of memory|ENOMEM|Cannot allocate memory|Available memory of \d+ is smaller than requested/i.test(message)) {
    return new UserError('out of memory: try a smaller --size, fewer --block-frames, or a GPU (--device cuda)', 2, 'out_of_memory');
  }
  return err;
}
