/**
 * Progress display for long CLI work: one line per stage with a bar, k/N and ETA. On a terminal the line is
 * redrawn in place; elsewhere (logs, CI) a line is printed at most every few seconds and at each stage's end.
 */
import { cliNaming, renderParts, type EditProgress, type MessagePart } from '../edit/index.js';

/** What a per-stage line shows: the edit's event, or any command's stage (eval, analyze-trajectory) with its label. */
export type ProgressEvent = Pick<EditProgress, 'step' | 'total' | 'unit'> & { readonly stage: string };

export interface ProgressSink {
  update(event: ProgressEvent): void;
  /** Ends the current line (call before printing anything else). */
  done(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** A bar of `width` cells, `fraction` (clamped to 0…1) of them filled. */
export function progressBar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export function formatProgressLine(event: ProgressEvent, elapsedSeconds: number, width = 24): string {
  const frac = event.total > 0 ? event.step / event.total : 0;
  const bar = progressBar(frac, width);
  const eta = event.step > 0 && event.step < event.total ? (elapsedSeconds / event.step) * (event.total - event.step) : NaN;
  const unit = event.unit ? ` ${event.unit}` : '';
  const count = `${event.step}/${event.total}${unit}`;
  const timing = event.step >= event.total ? `done in ${formatDuration(elapsedSeconds)}` : `ETA ${formatDuration(eta)}`;
  return `${event.stage.padEnd(10)} ${bar} ${count.padStart(11)}  ${timing}`;
}

/** A sink that writes to a stream (stderr by default); `quiet` drops everything. */
export function createProgress(opts: { quiet?: boolean; stream?: NodeJS.WriteStream; now?: () => number } = {}): ProgressSink {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now() / 1000);
  if (opts.quiet) return { update() {}, done() {} };
  const tty = Boolean(stream.isTTY);
  let stage: string | undefined;
  let stageStart = 0;
  let lastPrint = -Infinity;
  let open = false;
  return {
    update(event) {
      const t = now();
      if (event.stage !== stage) {
        if (open && tty) stream.write('\n');
        open = false;
        stage = event.stage;
        stageStart = t;
        lastPrint = -Infinity;
      }
      const line = formatProgressLine(event, t - stageStart);
      const finished = event.step >= event.total;
      if (tty) {
        stream.write(`\r${line}\x1b[K`);
        open = true;
        if (finished) {
          stream.write('\n');
          open = false;
        }
      } else if (finished || t - lastPrint >= 5) {
        stream.write(`${line}\n`);
        lastPrint = t;
      }
    },
    done() {
      if (open) stream.write('\n');
      open = false;
    },
  };
}

/** A callback that prints `<label>: message` on stderr below the progress bar (nothing when quiet), options named as flags. */
export function messagePrinter(bar: { done(): void }, quiet: boolean, label: 'note' | 'warning'): (message: string | readonly MessagePart[]) => void {
  return (message) => {
    bar.done();
    if (!quiet) process.stderr.write(`${label}: ${typeof message === 'string' ? message : renderParts(message, cliNaming)}\n`);
  };
}
