/**
 * The job queue: FIFO over the SQLite table, the jobs' folders, and what the API shows of them. Where jobs run is the
 * Dispatcher's business (dispatcher.ts): processes on this machine, or workers on a Redis queue.
 *
 * A job found `running` at start-up was cut off by a crash: it is re-queued once, and marked failed (with that reason)
 * if it was cut off twice, so a job that crashes the server cannot crash it forever. A clean stop (Ctrl-C, SIGTERM)
 * re-queues a running job without counting the attempt.
 *
 * A write the table refuses (disk full) never takes the server down: progress is kept in memory only, and a job's
 * end is kept in memory (`pending`) and written again every few seconds until it goes through.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { apiNaming, renderParts, VideoshopError, type MeasuredPace, type ModelGeometry, type SerializedError } from '../edit/index.js';
import type { Dispatcher, ModelState, Outcome } from './dispatcher.js';
import { MASKS_FILE, RESULT_FILE, withoutServerPaths } from './job-options.js';
import { FINISHED, JobStore, StorageError, type JobProgress, type JobRecord, type VideoSummary } from './store.js';
import type { JobInputs } from './job-inputs.js';

export const MAX_ATTEMPTS = 2;
/** How often progress reaches the table (the API's SSE gets every event). */
const SAVE_PROGRESS_MS = 500;
/** How often the dispatcher's state is checked against the table, and failed writes are tried again. */
const RECONCILE_MS = 5000;

export interface JobView extends JobRecord {
  /** 1-based place in the queue while queued. */
  queue_position: number | null;
  /** Which remote worker runs or ran the job (Redis mode). */
  worker?: string | null;
}

type Finish = Parameters<JobStore['finish']>;

export class JobQueue extends EventEmitter {
  private readonly lastSaved = new Map<string, number>();
  /** Live progress (also when the table cannot take it). */
  private readonly live = new Map<string, JobProgress>();
  /** Jobs' ends the table could not take yet, written again by `flush`. */
  private readonly pending = new Map<string, Finish>();
  private readonly workerOf = new Map<string, string>();
  private readonly cancelling = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private storageWarned = false;

  constructor(readonly dataDir: string, readonly store: JobStore, private readonly dispatcher: Dispatcher, private readonly remote = false) {
    super();
    this.setMaxListeners(0);
    mkdirSync(this.jobsDir, { recursive: true });
  }

  get jobsDir(): string {
    return path.join(this.dataDir, 'jobs');
  }

  jobDir(id: string): string {
    return path.join(this.jobsDir, id);
  }

  /** Re-queues what a crash cut off, then starts dispatching. */
  async start(): Promise<void> {
    if (!this.remote) {
      for (const job of this.store.withStatus('running')) {
        if (job.attempts >= MAX_ATTEMPTS) {
          this.finishJob(job.id, 'failed', { error: `the server stopped while this job ran (${job.attempts} times): not retried again`, errorCode: 'crashed' });
        } else {
          this.store.requeue(job.id, 'the server stopped while this job ran');
        }
      }
    }
    await this.dispatcher.start({
      take: () => this.take(),
      started: (id, worker) => this.started(id, worker),
      progress: (id, p, worker) => this.progress(id, p, worker),
      finished: (id, outcome, worker) => this.finished(id, outcome, worker),
    });
    await this.dispatcher.reconcile(this.store.withStatus('queued', 'running'));
    this.timer = setInterval(() => void this.tick(), RECONCILE_MS);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.flush();
    try {
      await this.dispatcher.reconcile(this.store.withStatus('queued', 'running'));
    } catch (err) {
      console.error(`videoshop serve: checking the queue failed: ${(err as Error).message}`);
    }
  }

  /** Writes the jobs' ends the table refused before. */
  private flush(): void {
    for (const [id, args] of this.pending) {
      try {
        this.store.finish(...args);
        this.pending.delete(id);
      } catch {
        return;
      }
    }
  }

  private storageTrouble(err: unknown): void {
    if (!(err instanceof StorageError)) throw err;
    if (!this.storageWarned) console.error(`videoshop serve: ${err.message}; jobs go on, their state is kept in memory until it can be written`);
    this.storageWarned = true;
  }

  private finishJob(...args: Finish): void {
    // The time it ended, kept if the write has to wait for room.
    args[2] = { ...args[2], finishedAt: args[2]?.finishedAt ?? new Date().toISOString() };
    try {
      this.store.finish(...args);
      this.pending.delete(args[0]);
      this.storageWarned = false;
    } catch (err) {
      this.storageTrouble(err);
      this.pending.set(args[0], args);
    }
  }

  // --- what the dispatcher reports ------------------------------------------------------------------------------

  private take(): JobRecord | undefined {
    if (this.stopping) return undefined;
    const job = this.store.nextQueued();
    if (!job || this.pending.has(job.id)) return undefined; // none, or its end is not written yet
    this.store.markRunning(job.id);
    this.notify(job.id);
    return this.store.get(job.id);
  }

  private isLive(id: string): JobRecord | undefined {
    const job = this.store.get(id);
    return job && !this.pending.has(id) && (job.status === 'queued' || job.status === 'running') ? job : undefined;
  }

  private started(id: string, worker?: string): void {
    const job = this.isLive(id);
    if (!job) return;
    if (worker) this.workerOf.set(id, worker);
    // Every start by a worker counts (a job a dead worker's lock gave back is started again).
    this.store.markRunning(id);
    this.notify(id);
  }

  private progress(id: string, progress: JobProgress, worker?: string): void {
    if (!this.isLive(id)) return;
    if (worker) this.workerOf.set(id, worker);
    this.live.set(id, progress);
    const now = performance.now();
    if (now - (this.lastSaved.get(id) ?? 0) > SAVE_PROGRESS_MS) {
      this.lastSaved.set(id, now);
      try {
        this.store.setProgress(id, progress);
      } catch (err) {
        this.storageTrouble(err);
      }
    }
    const job = this.get(id);
    if (job) this.emit('update', job);
  }

  private finished(id: string, outcome: Outcome, worker?: string): void {
    const job = this.isLive(id);
    if (!job) return;
    if (worker) this.workerOf.set(id, worker);
    const last = this.live.get(id) ?? job.progress;
    this.lastSaved.delete(id);
    this.live.delete(id);
    const wasCancelled = this.cancelling.delete(id);
    const words = (text: string) => withoutServerPaths(text, job.video);
    const warnings = outcome.kind === 'lost' ? [] : outcome.warnings.map((w) => words(renderParts(w, apiNaming)));
    const dir = this.jobDir(id);
    if (outcome.kind === 'done') {
      this.finishJob(id, 'done', { warnings, result: { ...outcome.result, ...(worker ? { worker } : {}) },
        progress: last ? { ...last, fraction: 1, etaSeconds: 0 } : null });
    } else if (outcome.kind === 'cancelled' || wasCancelled) {
      removeOutputs(dir, true);
      this.finishJob(id, 'cancelled', { warnings, error: 'cancelled', errorCode: 'cancelled' });
    } else if (outcome.kind === 'lost') {
      removeOutputs(dir, true);
      if (job.attempts >= MAX_ATTEMPTS) {
        this.finishJob(id, 'failed', { error: `${outcome.reason} (${job.attempts} times): not retried again`, errorCode: 'lost' });
      } else {
        console.error(`videoshop serve: job ${id}: ${outcome.reason}; queued again`);
        this.store.requeue(id, outcome.reason);
        void this.submit(id);
      }
    } else {
      removeOutputs(dir, true);
      const error = VideoshopError.fromJSON(outcome.error as SerializedError);
      this.finishJob(id, 'failed', { warnings, error: words(error.render(apiNaming)), errorCode: error.code });
    }
    this.notify(id);
  }

  private async submit(id: string): Promise<void> {
    const job = this.store.get(id);
    if (!job) return;
    try {
      await this.dispatcher.submit(job, this.store.token(id));
    } catch (err) {
      this.finishJob(id, 'failed', { error: `could not queue the job: ${(err as Error).message}`, errorCode: 'queue_unavailable' });
      this.notify(id);
    }
  }

  // --- what the API asks ----------------------------------------------------------------------------------------

  view(job: JobRecord): JobView {
    const end = this.pending.get(job.id);
    const status = end ? end[1] : job.status;
    const fields = end?.[2] ?? {};
    const merged: JobRecord = end
      ? { ...job, status, finished_at: fields.finishedAt ?? null, error: fields.error ?? null, error_code: fields.errorCode ?? null,
        warnings: fields.warnings ?? [], result: fields.result ?? null, progress: fields.progress ?? job.progress }
      : { ...job, progress: this.live.get(job.id) ?? job.progress };
    const position = status === 'queued' ? this.store.queuePosition(job.id) : null;
    return { ...merged, queue_position: position, ...(this.remote ? { worker: this.workerOf.get(job.id) ?? null } : {}) };
  }

  get(id: string): JobView | undefined {
    const job = this.store.get(id);
    return job && this.view(job);
  }

  list(): JobView[] {
    return this.store.list().map((j) => this.view(j));
  }

  counts(): { queued: number; running: number } {
    return this.store.counts();
  }

  /** A new job whose files are in its folder already; a Redis job gets the secret its worker fetches them with. */
  add(job: { id: string; options: Record<string, unknown>; video: VideoSummary; inputs?: JobInputs }): JobView {
    const record = this.store.insert(job, this.remote ? randomBytes(24).toString('base64url') : null);
    this.emit('update', this.view(record));
    void this.submit(record.id);
    return this.get(record.id)!;
  }

  private notify(id: string): void {
    const job = this.get(id);
    if (job) this.emit('update', job);
    // The others' queue positions moved.
    for (const other of this.store.withStatus('queued')) if (other.id !== id) this.emit('update', this.view(other));
  }

  /** DELETE: a queued job is cancelled, a running one asked to stop; a finished one is deleted with its files. */
  cancelOrDelete(id: string): 'cancelled' | 'cancelling' | 'deleted' | undefined {
    const job = this.get(id);
    if (!job) return undefined;
    if (job.status === 'queued') {
      this.dispatcher.cancel(id);
      this.finishJob(id, 'cancelled', { error: 'cancelled before it started', errorCode: 'cancelled' });
      this.notify(id);
      return 'cancelled';
    }
    if (job.status === 'running') {
      this.cancelling.add(id);
      this.dispatcher.cancel(id);
      return 'cancelling';
    }
    if (FINISHED.includes(job.status)) {
      this.store.delete(id);
      this.pending.delete(id);
      rmSync(this.jobDir(id), { recursive: true, force: true });
      this.emit('deleted', id);
      return 'deleted';
    }
    return undefined;
  }

  /** Removes finished jobs (oldest first) while `shouldFree()` says more room is needed, or older than `before`. */
  prune(opts: { before?: Date; shouldFree?: () => boolean }): string[] {
    const removed: string[] = [];
    const finished = this.store.list().filter((j) => FINISHED.includes(j.status)).reverse();
    for (const job of finished) {
      const old = opts.before && new Date(job.finished_at ?? job.created_at) < opts.before;
      if (!old && !opts.shouldFree?.()) continue;
      try {
        this.cancelOrDelete(job.id);
        removed.push(job.id);
      } catch (err) {
        this.storageTrouble(err);
        break;
      }
    }
    return removed;
  }

  /** Bytes the finished jobs hold (what pruning could free). */
  finishedBytes(sizeOf: (dir: string) => number): number {
    return this.store.list().filter((j) => FINISHED.includes(j.status)).reduce((s, j) => s + sizeOf(this.jobDir(j.id)), 0);
  }

  pace(): MeasuredPace | null {
    return this.dispatcher.pace();
  }

  geometry(): ModelGeometry | null {
    return this.dispatcher.geometry();
  }

  modelState(): ModelState {
    return this.dispatcher.modelState();
  }

  onLoadFailed(listener: (error: SerializedError) => void): void {
    this.dispatcher.onLoadFailed(listener);
  }

  /** Stops dispatching; a running local job goes back to the queue's head (not counted as an attempt). */
  async close(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.flush();
    if (!this.remote) {
      for (const job of this.store.withStatus('running')) {
        try {
          this.store.requeue(job.id, 'the server was restarted while this job ran', false);
        } catch (err) {
          this.storageTrouble(err);
        }
      }
    }
    await this.dispatcher.close();
    this.store.close();
  }
}

/** A job's partial or unwanted output: the writer's temp files (a killed worker leaves them), and the result itself. */
export function removeOutputs(dir: string, result: boolean): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const partial = [RESULT_FILE, MASKS_FILE].some((f) => name.startsWith(`.${f}.tmp-`) || name.startsWith(`${f}.part`));
    if (partial || (result && (name === RESULT_FILE || name === MASKS_FILE))) {
      rmSync(path.join(dir, name), { force: true });
    }
  }
}
