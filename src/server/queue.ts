/**
 * The job queue: FIFO over the SQLite table, one job at a time per inference slot (`parallel` slots, each its own
 * worker thread with the model loaded once). Jobs and their files live in the data folder, so a restart resumes
 * the queue. A job found `running` at start-up was cut off by a crash: it is re-queued once, and marked failed
 * (with that reason) if it was cut off twice, so a job that crashes the server cannot crash it forever.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseJobOptions } from './job-options.js';
import { ProgressTracker } from './progress.js';
import type { RedisDispatcher, RemoteHandlers } from './redis-queue.js';
import type { MeasuredPace } from '../edit/calibrate.js';
import { InferenceSlot } from './slot.js';
import { FINISHED, JobStore, type JobProgress, type JobRecord } from './store.js';
import type { WorkerConfig } from './worker-protocol.js';

export const MAX_ATTEMPTS = 2;

export interface JobView extends JobRecord {
  /** 1-based place in the queue while queued. */
  queue_position: number | null;
}

export class JobQueue extends EventEmitter {
  readonly store: JobStore;
  readonly slots: InferenceSlot[];
  private stopping = false;
  /** Progress is written to SQLite at most this often; SSE gets every update. */
  private lastSaved = new Map<string, number>();

  /** Which remote worker runs or ran a job (Redis mode), for the API. */
  private readonly workerOf = new Map<string, string>();

  /** With `remote`, jobs go to Redis for `videoshop worker`s instead of local worker processes. */
  constructor(readonly dataDir: string, private readonly worker: WorkerConfig, parallel = 1, private readonly remote?: RedisDispatcher) {
    super();
    this.setMaxListeners(0);
    mkdirSync(this.jobsDir, { recursive: true });
    this.store = new JobStore(path.join(dataDir, 'jobs.sqlite'));
    if (remote) {
      this.slots = [];
      remote.attach(this.remoteHandlers());
      return;
    }
    this.recover();
    this.slots = Array.from({ length: parallel }, () => {
      const slot = new InferenceSlot(worker);
      slot.on('ready', () => this.schedule());
      slot.on('load-failed', (message: string) => this.emit('load-failed', message));
      return slot;
    });
  }

  get jobsDir(): string {
    return path.join(this.dataDir, 'jobs');
  }

  jobDir(id: string): string {
    return path.join(this.jobsDir, id);
  }

  private readonly cancelling = new Set<string>();

  /** BullMQ's events, applied to the table: the remote worker's progress and outcome. */
  private remoteHandlers(): RemoteHandlers {
    const remote = this.remote!;
    const live = (id: string) => {
      const job = this.store.get(id);
      return job && (job.status === 'queued' || job.status === 'running') ? job : undefined;
    };
    return {
      active: (id) => {
        if (!live(id)) return;
        this.store.markRunning(id);
        this.notify(id);
      },
      progress: (id, p) => {
        if (!live(id)) return;
        const { worker, ...progress } = p;
        this.workerOf.set(id, worker);
        const now = performance.now();
        if (now - (this.lastSaved.get(id) ?? 0) > 500) {
          this.store.setProgress(id, progress);
          this.lastSaved.set(id, now);
        }
        this.emit('update', { ...this.get(id)!, progress });
      },
      completed: (id, r) => {
        if (!live(id)) return;
        this.workerOf.set(id, r.worker);
        void remote.takeResult(id).then((data) => {
          if (!data) throw new Error('the worker\'s result is missing from Redis');
          const out = path.join(this.jobDir(id), 'result.mp4');
          writeFileSync(`${out}.tmp`, data);
          renameSync(`${out}.tmp`, out);
          const last = this.store.get(id)?.progress;
          if (last) this.store.setProgress(id, { ...last, fraction: 1, eta_s: 0 });
          this.store.finish(id, 'done', { warnings: r.warnings, result: { ...r.result, worker: r.worker } });
        }).catch((err: Error) => this.store.finish(id, 'failed', { error: `could not fetch the result: ${err.message}` }))
          .finally(() => this.notify(id));
      },
      failed: (id, message) => {
        if (!live(id)) return;
        const cancelled = this.cancelling.delete(id) || message === 'cancelled';
        this.store.finish(id, cancelled ? 'cancelled' : 'failed', { error: cancelled ? 'cancelled' : message });
        void remote.forget(id);
        this.notify(id);
      },
    };
  }

  /** Redis mode, at start-up: jobs that finished or vanished on the queue while the server was down. */
  async reconcile(): Promise<void> {
    const remote = this.remote;
    if (!remote) return;
    const handlers = this.remoteHandlers();
    for (const job of this.store.list()) {
      if (job.status !== 'queued' && job.status !== 'running') continue;
      const s = await remote.state(job.id);
      if (s.state === 'completed' && s.result) handlers.completed(job.id, s.result);
      else if (s.state === 'failed') handlers.failed(job.id, s.reason ?? 'failed');
      else if (s.state === 'unknown') await remote.enqueue(job, this.jobDir(job.id));
    }
  }

  private recover(): void {
    for (const job of this.store.list()) {
      if (job.status !== 'running') continue;
      if (job.attempts >= MAX_ATTEMPTS) {
        this.store.finish(job.id, 'failed', { error: `the server stopped while this job ran (${job.attempts} times): not retried again` });
      } else {
        this.store.requeue(job.id);
      }
    }
  }

  view(job: JobRecord): JobView {
    return { ...job, queue_position: this.store.queuePosition(job.id), ...(this.remote ? { worker: this.workerOf.get(job.id) ?? null } : {}) };
  }

  get(id: string): JobView | undefined {
    const job = this.store.get(id);
    return job && this.view(job);
  }

  list(): JobView[] {
    return this.store.list().map((j) => this.view(j));
  }

  add(job: Pick<JobRecord, 'id' | 'options' | 'video'>): JobView {
    const record = this.store.insert(job);
    this.emit('update', this.view(record));
    if (this.remote) {
      this.remote.enqueue(record, this.jobDir(record.id)).catch((err: Error) => {
        this.store.finish(record.id, 'failed', { error: `could not put the job on the Redis queue: ${err.message}` });
        this.notify(record.id);
      });
    }
    this.schedule();
    return this.get(record.id)!;
  }

  private schedule(): void {
    if (this.stopping || this.remote) return;
    for (const slot of this.slots) {
      if (slot.state !== 'ready') continue;
      const job = this.store.nextQueued();
      if (!job) return;
      void this.start(slot, job);
    }
  }

  private async start(slot: InferenceSlot, job: JobRecord): Promise<void> {
    this.store.markRunning(job.id);
    this.notify(job.id);
    const dir = this.jobDir(job.id);
    const tracker = new ProgressTracker();
    let last: JobProgress | null = null;
    let edit;
    try {
      edit = parseJobOptions(job.options, {
        video: path.join(dir, job.video.file), editedFrame: path.join(dir, 'edited.png'), output: path.join(dir, 'result.mp4'),
        model: this.worker.model,
      }).edit;
    } catch (err) {
      this.store.finish(job.id, 'failed', { error: (err as Error).message });
      this.notify(job.id);
      this.schedule();
      return;
    }
    const outcome = await slot.run(job.id, { ...edit, force: true, device: this.worker.device }, {
      onProgress: (p) => {
        const progress = tracker.update(p);
        last = progress;
        const now = performance.now();
        if (now - (this.lastSaved.get(job.id) ?? 0) > 500) {
          this.store.setProgress(job.id, progress);
          this.lastSaved.set(job.id, now);
        }
        this.emit('update', { ...this.get(job.id)!, progress });
      },
    });
    this.lastSaved.delete(job.id);
    this.cancelling.delete(job.id);
    if (this.stopping) return; // left `running`: re-queued at the next start
    if (outcome.kind === 'done') {
      if (last) this.store.setProgress(job.id, { ...(last as JobProgress), fraction: 1, eta_s: 0 });
      this.store.finish(job.id, 'done', { warnings: outcome.warnings, result: outcome.result });
    } else if (outcome.kind === 'cancelled') {
      this.store.finish(job.id, 'cancelled', { warnings: outcome.warnings, error: 'cancelled' });
      rmSync(path.join(dir, 'result.mp4'), { force: true });
    } else {
      this.store.finish(job.id, 'failed', { warnings: outcome.warnings, error: outcome.message });
    }
    this.notify(job.id);
    this.schedule();
  }

  private notify(id: string): void {
    const job = this.get(id);
    if (job) this.emit('update', job);
    // The others' queue positions moved.
    for (const other of this.store.list()) if (other.status === 'queued' && other.id !== id) this.emit('update', this.view(other));
  }

  /** DELETE: a queued job is cancelled, a running one asked to stop; a finished one is deleted with its files. */
  cancelOrDelete(id: string): 'cancelled' | 'cancelling' | 'deleted' | undefined {
    const job = this.store.get(id);
    if (!job) return undefined;
    if (job.status === 'queued') {
      this.store.finish(id, 'cancelled', { error: 'cancelled before it started' });
      void this.remote?.cancel(id);
      this.notify(id);
      return 'cancelled';
    }
    if (job.status === 'running') {
      this.cancelling.add(id);
      for (const slot of this.slots) slot.cancel(id);
      void this.remote?.cancel(id);
      return 'cancelling';
    }
    if (FINISHED.includes(job.status)) {
      this.store.delete(id);
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
      this.cancelOrDelete(job.id);
      removed.push(job.id);
    }
    return removed;
  }

  /** The first local worker's test-edit pace (edit/calibrate.ts), for estimates before any job has finished. */
  pace(): MeasuredPace | null {
    return this.slots.find((s) => s.pace)?.pace ?? null;
  }

  modelState(): { state: string; error: string | null; folder: string | null; device: string; dtype: string | null } {
    if (this.remote) return { state: 'remote', error: null, folder: null, device: this.worker.device, dtype: null };
    const slot = this.slots[0];
    return { state: slot.state === 'busy' ? 'ready' : slot.state, error: slot.loadError, folder: slot.model?.folder ?? null,
      device: this.worker.device, dtype: slot.model?.dtype ?? null };
  }

  /** Stops the workers; a running job goes back to the queue's head and starts again at the next start. */
  async close(): Promise<void> {
    this.stopping = true;
    // Remote jobs keep running on their workers; the next start reconciles them with the queue.
    if (!this.remote) for (const job of this.store.list()) if (job.status === 'running') this.store.requeue(job.id);
    await Promise.all(this.slots.map((s) => s.stop()));
    await this.remote?.close();
    this.store.close();
  }
}
