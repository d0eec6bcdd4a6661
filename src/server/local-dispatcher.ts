/**
 * Jobs run on this machine: `parallel` inference processes (slot.ts), each with the model loaded once, each taking the
 * oldest queued job whenever it is free.
 */
import { isVideoshopError, type MeasuredPace, type ModelGeometry, type SerializedError } from '../edit/index.js';
import type { DispatchEvents, Dispatcher, ModelState } from './dispatcher.js';
import { jobRequest } from './job-options.js';
import { InferenceSlot } from './slot.js';
import type { JobRecord } from './store.js';
import type { WorkerConfig } from './worker-protocol.js';

export class LocalDispatcher implements Dispatcher {
  private readonly slots: InferenceSlot[];
  private events: DispatchEvents | null = null;
  private stopping = false;
  private readonly loadListeners: ((error: SerializedError) => void)[] = [];

  constructor(private readonly worker: WorkerConfig, parallel: number, private readonly jobDir: (id: string) => string) {
    this.slots = Array.from({ length: parallel }, () => {
      const slot = new InferenceSlot(worker);
      slot.on('ready', () => this.schedule());
      slot.on('load-failed', (error: SerializedError) => this.loadListeners.forEach((l) => l(error)));
      return slot;
    });
  }

  /** The worker processes' ids (a test kills one to see its job fail and a fresh one take the next). */
  get pids(): (number | undefined)[] {
    return this.slots.map((s) => s.pid);
  }

  async start(events: DispatchEvents): Promise<void> {
    this.events = events;
    this.schedule();
  }

  async submit(): Promise<void> {
    this.schedule();
  }

  /** Local jobs found running at start-up were cut off by a crash: the queue re-queues them before `start`. */
  async reconcile(): Promise<void> {}

  private schedule(): void {
    if (this.stopping || !this.events) return;
    for (const slot of this.slots) {
      if (slot.state !== 'ready') continue;
      const job = this.events.take();
      if (!job) return;
      void this.run(slot, job);
    }
  }

  private async run(slot: InferenceSlot, job: JobRecord): Promise<void> {
    const events = this.events!;
    let request;
    try {
      request = jobRequest(job.options, job.video.file, this.jobDir(job.id), this.worker.model, this.worker.unet, job.inputs);
    } catch (err) {
      if (!isVideoshopError(err)) throw err;
      events.finished(job.id, { kind: 'failed', error: err.toJSON(), warnings: [] });
      this.schedule();
      return;
    }
    const outcome = await slot.run(job.id, request, { onProgress: (p) => events.progress(job.id, p) });
    if (this.stopping) return; // left `running`: re-queued at the next start
    events.finished(job.id, outcome);
    this.schedule();
  }

  cancel(id: string): void {
    for (const slot of this.slots) slot.cancel(id);
  }

  modelState(): ModelState {
    const slot = this.slots[0];
    return { state: slot.state === 'busy' ? 'ready' : slot.state, error: slot.loadError, folder: slot.model?.folder ?? null,
      device: this.worker.device, dtype: slot.model?.dtype ?? null };
  }

  geometry(): ModelGeometry | null {
    return this.slots.find((s) => s.model)?.model?.geometry ?? null;
  }

  pace(): MeasuredPace | null {
    return this.slots.find((s) => s.pace)?.pace ?? null;
  }

  onLoadFailed(listener: (error: SerializedError) => void): void {
    this.loadListeners.push(listener);
    const failed = this.slots.find((s) => s.state === 'failed');
    if (failed?.loadError) listener(failed.loadError);
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map((s) => s.stop()));
  }
}
