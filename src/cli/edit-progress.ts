/**
 * The edit's progress as people know it from video tools: ONE live line for the whole job — stage (and block j/M),
 * a bar with the overall %, the stage's step k/N, step speed, elapsed, ETA for the whole video. On a terminal it is
 * redrawn in place and cut to the terminal's width (never wraps); in logs (not a TTY) a plain line is printed every
 * `interval` seconds and when a stage of its own kind (download, load, a finished block) ends. `--verbose` keeps the
 * per-stage lines of createProgress instead.
 */
import type { EditProgress } from '../edit/index.js';
import { formatDuration, progressBar } from './progress.js';

export interface EditDisplay {
  update(p: EditProgress): void;
  /** Ends the live line (before anything else is printed). */
  done(): void;
}

export interface EditDisplayOptions {
  stream?: NodeJS.WriteStream;
  now?: () => number;
  /** Seconds between plain lines when the stream is not a terminal (default 10). */
  interval?: number;
}

/** The bar (20 cells) and the whole percentage done. */
function barPercent(fraction: number): string {
  return `${progressBar(fraction, 20)} ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

function speed(secondsPerStep: number): string {
  if (!Number.isFinite(secondsPerStep) || secondsPerStep <= 0) return '';
  return secondsPerStep >= 1 ? `${secondsPerStep.toFixed(1)} s/step` : `${(1 / secondsPerStep).toFixed(1)} step/s`;
}

/** The parts of the line, most important first; the caller joins as many as fit. */
export function editLineParts(p: EditProgress, stageSeconds: number): string[] {
  const stage = p.blocks && p.blocks > 1 && p.block && p.stage !== 'write' ? `${p.stage} ${p.block}/${p.blocks}` : p.stage;
  if (p.stage === 'download') {
    const frac = p.total > 0 ? p.step / p.total : 0;
    const rate = stageSeconds > 0 ? p.step / stageSeconds : 0;
    const eta = rate > 0 ? (p.total - p.step) / rate : NaN;
    return [stage.padEnd(12), barPercent(frac), `${p.step}/${p.total} ${p.unit ?? ''}`.trim(),
      rate > 0 ? `${rate.toFixed(1)} ${p.unit ?? ''}/s`.trim() : '', `ETA ${formatDuration(eta)}`].filter(Boolean);
  }
  if (p.stage === 'load') return [stage.padEnd(12), p.step >= p.total ? 'model loaded' : 'loading the model…'];
  const parts = [stage.padEnd(12), barPercent(p.fraction)];
  parts.push(`ETA ${p.etaSeconds === null ? '--:--' : formatDuration(p.etaSeconds)}`);
  if (p.stage === 'invert' || p.stage === 'denoise') parts.push(`step ${p.step}/${p.total}`);
  else if (p.stage === 'read') parts.push(`frame ${p.step}/${p.total}`);
  if ((p.stage === 'invert' || p.stage === 'denoise') && p.step > 0) parts.push(speed(stageSeconds / p.step));
  parts.push(`elapsed ${formatDuration(p.elapsedSeconds)}`);
  return parts.filter(Boolean);
}

/** Joins parts with two spaces, dropping the least important ones that do not fit in `width` columns. */
export function fitParts(parts: readonly string[], width: number): string {
  let line = '';
  for (const part of parts) {
    const next = line ? `${line}  ${part}` : part;
    if ([...next].length > width) break;
    line = next;
  }
  return line || [...parts[0]].slice(0, Math.max(1, width)).join('');
}

export function createEditDisplay(opts: EditDisplayOptions = {}): EditDisplay {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now() / 1000);
  const interval = opts.interval ?? 10;
  const tty = Boolean(stream.isTTY);
  let open = false;
  let stageKey = '';
  let stageStart = 0;
  let lastPrint = -Infinity;
  let lastLine = '';
  return {
    update(p) {
      const t = now();
      const key = `${p.stage}/${p.block ?? ''}`;
      if (key !== stageKey) {
        stageKey = key;
        stageStart = t;
      }
      const parts = editLineParts(p, t - stageStart);
      if (tty) {
        const line = fitParts(parts, Math.max(20, (stream.columns ?? 80) - 1));
        if (line !== lastLine) stream.write(`\r${line}\x1b[K`);
        lastLine = line;
        open = true;
        return;
      }
      const milestone = (p.stage === 'download' || p.stage === 'load' || p.stage === 'decode') && p.step >= p.total;
      if (milestone || t - lastPrint >= interval) {
        const line = parts.join('  ');
        if (line !== lastLine) stream.write(`${line}\n`);
        lastLine = line;
        lastPrint = t;
      }
    },
    done() {
      if (open) stream.write('\n');
      open = false;
      lastLine = '';
    },
  };
}
