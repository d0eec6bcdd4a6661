/** `videoshop eval`: the paper's automatic metrics for an edited video, as a table or one JSON object. */
import { type Command } from 'commander';
import { DEFAULT_MODEL, explainFailure } from '../edit/index.js';
import { FLOW_METHOD, metricsToJson, type EditMetrics } from '../eval/index.js';
import { evaluateVideos, type EvalProgress, type EvalVideosResult } from '../eval/run-eval.js';
import { sizeArg } from './args.js';
import { createProgress, messagePrinter } from './progress.js';

interface EvalFlags {
  source: string;
  edited: string;
  target: string;
  mask?: string;
  model: string;
  size?: { width: number; height: number };
  flow: boolean;
  quiet: boolean;
  json: boolean;
}

/** Each metric: its name in JSON (the paper's, ⁺ spelled _plus), in the table, which way is better, what it compares. */
const ROWS: readonly { key: keyof EditMetrics; json: string; label: string; better: '↑' | '↓'; what: string }[] = [
  { key: 'clipTgt', json: 'CLIP_tgt', label: 'CLIP_tgt', better: '↑', what: 'edited frames vs the target image' },
  { key: 'clipTgtPlus', json: 'CLIP_tgt_plus', label: 'CLIP_tgt⁺', better: '↑', what: 'the same, inside the mask' },
  { key: 'clipSrc', json: 'CLIP_src', label: 'CLIP_src', better: '↑', what: 'edited vs source frames' },
  { key: 'clipSrcPlus', json: 'CLIP_src_plus', label: 'CLIP_src⁺', better: '↑', what: 'the same, outside the mask' },
  { key: 'clipTC', json: 'CLIP_TC', label: 'CLIP_TC', better: '↑', what: 'consecutive edited frames' },
  { key: 'ssim', json: 'SSIM', label: 'SSIM', better: '↑', what: 'edited vs source frames' },
  { key: 'psnr', json: 'PSNR', label: 'PSNR', better: '↑', what: 'edited vs source frames, dB' },
  { key: 'flow', json: 'Flow', label: 'Flow', better: '↓', what: 'optical-flow end-point error vs the source, px' },
  { key: 'flowPlus', json: 'Flow_plus', label: 'Flow⁺', better: '↓', what: 'the same, outside the mask' },
];

export function addEvalCommand(program: Command, print: (line: string) => void): void {
  program
    .command('eval')
    .description("score an edited video with the paper's automatic metrics (CLIP, SSIM, PSNR, Flow)")
    .requiredOption('--source <video>', 'the source video')
    .requiredOption('--edited <video>', 'the edited video (same frame count as the source)')
    .requiredOption('--target <image>', 'the edited first frame (the paper\'s target image, for CLIP_tgt)')
    .option('--mask <image>', 'black/white image of the edited region (white) in the first frame, applied to every frame: ' +
      'adds CLIP_tgt⁺, CLIP_src⁺ and Flow⁺ (the paper tracked the region with CoTracker)')
    .option('--model <id|folder>', 'SVD model whose CLIP image encoder computes the CLIP metrics (only that component is loaded)', DEFAULT_MODEL)
    .option('--size <WxH>', 'compare frames at this size (default: the edited video\'s)', sizeArg)
    .option('--no-flow', 'skip Flow and Flow⁺ (the slowest part)')
    .option('-q, --quiet', 'no progress output', false)
    .option('--json', 'print one JSON object (keys named after the paper\'s metrics) instead of a table', false)
    .addHelpText('after', `\nOptical flow: ${FLOW_METHOD}.\nFlow values are comparable between runs of this tool, not with the paper's tables.`)
    .action(async (flags: EvalFlags) => {
      await runEval(flags, print);
    });
}

async function runEval(flags: EvalFlags, print: (line: string) => void): Promise<void> {
  const bar = createProgress({ quiet: flags.quiet });
  let result: EvalVideosResult;
  try {
    result = await evaluateVideos({
      source: flags.source, edited: flags.edited, target: flags.target, mask: flags.mask, model: flags.model,
      size: flags.size, flow: flags.flow,
    }, {
      onProgress: (p: EvalProgress) => bar.update(p),
      onNotice: messagePrinter(bar, flags.quiet, 'note'),
    });
  } catch (err) {
    throw explainFailure(err);
  } finally {
    bar.done();
  }
  if (flags.json) print(JSON.stringify(evalJson(result)));
  else for (const line of evalTable(result)) print(line);
}

/** The --json object: the paper's metric names, then frames, size, model and notes (∞ / NaN become null with a note). */
export function evalJson(r: EvalVideosResult): Record<string, unknown> {
  const named: Record<string, number | undefined> = {};
  for (const row of ROWS) named[row.json] = r.metrics[row.key];
  const { metrics, notes } = metricsToJson(named);
  return { ...metrics, frames: r.frames, size: r.size, model: r.model, notes: [...notes, ...r.notes] };
}

function formatValue(key: keyof EditMetrics, value: number): string {
  if (value === Infinity) return '∞ (identical)';
  if (Number.isNaN(value)) return 'n/a';
  return value.toFixed(key === 'psnr' || key === 'flow' || key === 'flowPlus' ? 2 : 4);
}

export function evalTable(r: EvalVideosResult): string[] {
  const rows = ROWS.filter((row) => r.metrics[row.key] !== undefined)
    .map((row) => [row.label, formatValue(row.key, r.metrics[row.key] as number), row.better, row.what]);
  const widths = [0, 1].map((c) => Math.max(...rows.map((cells) => cells[c].length)));
  return [
    ...rows.map((cells) => `${cells[0].padEnd(widths[0])}  ${cells[1].padStart(widths[1])}  ${cells[2]}  ${cells[3]}`),
    '',
    `${r.frames} frames compared at ${r.size.width}×${r.size.height}; CLIP: the image encoder of ${r.model}`,
    ...r.notes.map((n) => `note: ${n}`),
  ];
}
