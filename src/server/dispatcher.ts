/**
 * Who runs the jobs: a Dispatcher takes queued jobs to workers and reports what happens to them. The queue
 * (queue.ts) owns the job table and the API's view; it does not know where jobs run.
 *
 * - LocalDispatcher (local-dispatcher.ts): inference processes on this machine, `--parallel` of them.
 * - RedisDispatcher (redis-dispatcher.ts): a BullMQ queue that `videoshop worker`s on other machines take jobs from;
 *   they fetch the media from this server over HTTP and send the result back the same way.
 */
import type { MeasuredPace, MessagePart, ModelGeometry, SerializedError } from '../edit/index.js';
import type { JobProgress, JobRecord } from './store.js';
import type { JobResult } from './worker-protocol.js';

export type Outcome =
  | { kind: 'done'; result: JobResult; warnings: MessagePart[][] }
  | { kind: 'failed'; error: SerializedError; warnings: MessagePart[][] }
  | { kind: 'cancelled'; warnings: MessagePart[][] }
  /** Lost on the way (its worker or the queue lost it): the queue runs it again, within its attempts. */
  | { kind: 'lost'; reason: string };

/** What a dispatcher tells the queue. */
export interface DispatchEvents {
  /** The next queued job, marked running (local slots pull; a remote queue pushes instead and never calls it). */
  take(): JobRecord | undefined;
  /** A remote worker started a job. */
  started(id: string, worker?: string): void;
  progress(id: string, progress: JobProgress, worker?: string): void;
  finished(id: string, outcome: Outcome, worker?: string): void;
}

export interface ModelState {
  state: 'loading' | 'ready' | 'failed' | 'remote' | 'stopped';
  error: SerializedError | null;
  folder: string | null;
  device: string;
  dtype: string | null;
}

export interface Dispatcher {
  /** Begins dispatching; `running` are the jobs the table has as running (cut off by a crash, or on remote workers). */
  start(events: DispatchEvents): Promise<void>;
  /** A job was queued (or queued again); `secret` authorizes a remote worker's media requests for it. */
  submit(job: JobRecord, secret: string | null): Promise<void>;
  /** Asks a running job to stop, or removes a queued one from a remote queue. */
  cancel(id: string): void;
  /** At start-up and every few seconds: jobs the table has as queued or running, checked against the dispatcher's state. */
  reconcile(jobs: readonly JobRecord[]): Promise<void>;
  modelState(): ModelState;
  /** The loaded model's geometry, once known (plans and estimates need it). */
  geometry(): ModelGeometry | null;
  /** The test edit's pace, for estimates before any job has finished. */
  pace(): MeasuredPace | null;
  /** A model failed to load: the server cannot run jobs (serve exits with the reason). */
  onLoadFailed(listener: (error: SerializedError) => void): void;
  /** Stops the workers; running jobs stay `running` in the table for the next start (the queue re-queues them). */
  close(): Promise<void>;
}
