/**
 * Scale-out over Redis (`videoshop serve --queue redis://…`): each job goes on a BullMQ queue as a small payload —
 * its options, this server's address and the job's own secret — and a `videoshop worker` on any machine that reaches
 * Redis and this server takes it, fetches the media over HTTP (worker-media.ts), runs it, and sends the result back
 * the same way. Media never travels inside Redis. Progress arrives as BullMQ progress events, cancellation goes out on
 * a pub/sub channel.
 *
 * Jobs lost on the way are found: a worker that dies stops renewing its job's lock, and BullMQ's stalled-job check in
 * the other workers puts the job back; a job Redis itself lost (evicted, flushed) is found missing by `reconcile`,
 * which the queue runs every few seconds, and runs again.
 */
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EditProgress, MessagePart, ModelGeometry, SerializedError } from '../edit/index.js';
import type { DispatchEvents, Dispatcher, ModelState } from './dispatcher.js';
import { RESULT_FILE } from './job-options.js';
import { inputFiles, type JobInputs } from './job-inputs.js';
import type { JobRecord } from './store.js';
import type { JobResult } from './worker-protocol.js';

export const QUEUE_NAME = 'videoshop';
export const CANCEL_CHANNEL = 'videoshop:cancel';

/** What a worker gets: enough to fetch the job's files from the server and send the result back. */
export interface JobPayload {
  id: string;
  options: Record<string, unknown>;
  /** The source's file name inside the job (for its extension) and its size in bytes. */
  file: string;
  bytes: number;
  /** This server's address (e.g. http://10.0.0.5:7860/) and the job's secret for its media routes. */
  server: string;
  token: string;
  /** Keyframes and the earlier result (files the worker fetches from …/files/<name>); absent for a plain job. */
  inputs?: JobInputs;
}

/** What a worker sends with each progress event and returns at the end. */
export interface RemoteProgress {
  worker: string;
  progress: EditProgress;
}

export interface RemoteResult {
  result: JobResult;
  warnings: MessagePart[][];
  worker: string;
  geometry?: ModelGeometry;
}

/** A failure travels as BullMQ's failedReason: the error serialized, so its code survives. */
export function failureReason(error: SerializedError): string {
  return JSON.stringify(error);
}

function parseFailure(reason: string | undefined): SerializedError {
  try {
    const e = JSON.parse(reason ?? '') as SerializedError;
    if (typeof e.code === 'string' && typeof e.message === 'string') return e;
  } catch {
    // BullMQ's own words (a lock lost, a stalled job failed too often)
  }
  return { code: 'worker_failed', message: reason || 'the worker failed' };
}

/** A Redis that is not there (or not Redis) is one clear error, before any retrying client is made. */
export async function assertRedisReachable(url: string, timeoutMs = 5000): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${url} (is redis-server running?): ${(err as Error).message}`, { cause: err });
  } finally {
    probe.disconnect();
  }
}

/** Redis clients retry forever; a server that is not there is an error after `timeoutMs`. */
export async function untilReady<T>(p: Promise<T>, url: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${url} (is redis-server running?)`)), timeoutMs);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

export function redisConnection(url: string) {
  return { url, maxRetriesPerRequest: null };
}

export interface RedisDispatcherOptions {
  /** The address workers reach this server at. */
  publicUrl: () => string;
  jobDir: (id: string) => string;
}

export class RedisDispatcher implements Dispatcher {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private handlers: DispatchEvents | null = null;
  private lastGeometry: ModelGeometry | null = null;
  /** Jobs whose end was reported, so a replayed or reconciled event does not report it twice. */
  private readonly reported = new Set<string>();
  /** Jobs being put on the queue right now (not there yet, and not lost). */
  private readonly submitting = new Set<string>();

  private constructor(readonly url: string, private readonly o: RedisDispatcherOptions) {
    this.queue = new Queue(QUEUE_NAME, { connection: redisConnection(url) });
    this.events = new QueueEvents(QUEUE_NAME, { connection: redisConnection(url) });
    this.redis = new Redis(url, { maxRetriesPerRequest: 3 });
    // Losing Redis for a while is survivable (the clients reconnect): report it, don't crash.
    const report = (err: Error) => console.error(`videoshop serve: redis: ${err.message}`);
    this.queue.on('error', report);
    this.events.on('error', report);
    this.redis.on('error', report);
  }

  static async connect(url: string, o: RedisDispatcherOptions): Promise<RedisDispatcher> {
    await assertRedisReachable(url);
    const d = new RedisDispatcher(url, o);
    await untilReady(Promise.all([d.queue.waitUntilReady(), d.events.waitUntilReady(), d.redis.ping()]), url, 10_000);
    return d;
  }

  async start(events: DispatchEvents): Promise<void> {
    this.handlers = events;
    this.events.on('active', ({ jobId }) => events.started(jobId));
    this.events.on('progress', ({ jobId, data }) => {
      const p = data as unknown as RemoteProgress;
      if (p && typeof p === 'object' && p.progress) events.progress(jobId, p.progress, p.worker);
    });
    this.events.on('completed', ({ jobId, returnvalue }) => this.completed(jobId, returnvalue as unknown as RemoteResult));
    this.events.on('failed', ({ jobId, failedReason }) => this.failed(jobId, failedReason));
  }

  private completed(id: string, r: RemoteResult | undefined): void {
    if (this.reported.has(id) || !this.handlers) return;
    this.reported.add(id);
    if (r?.geometry) this.lastGeometry = r.geometry;
    // The worker sent the result over HTTP before it returned.
    if (!r || !existsSync(path.join(this.o.jobDir(id), RESULT_FILE))) {
      this.handlers.finished(id, { kind: 'failed', error: { code: 'result_missing', message: 'the worker finished but its result never arrived' }, warnings: [] }, r?.worker);
      return;
    }
    this.handlers.finished(id, { kind: 'done', result: r.result, warnings: r.warnings ?? [] }, r.worker);
  }

  private failed(id: string, reason: string | undefined): void {
    if (this.reported.has(id) || !this.handlers) return;
    this.reported.add(id);
    const error = parseFailure(reason);
    this.handlers.finished(id, error.code === 'interrupted' || error.code === 'cancelled' ? { kind: 'cancelled', warnings: [] } : { kind: 'failed', error, warnings: [] });
  }

  async submit(job: JobRecord, secret: string | null): Promise<void> {
    this.reported.delete(job.id);
    this.submitting.add(job.id);
    try {
      const existing = await this.queue.getJob(job.id);
      // A job id BullMQ still keeps (finished, or failed) is removed first: `add` would otherwise do nothing.
      if (existing) await existing.remove().catch(() => {});
      const payload: JobPayload = {
        id: job.id, options: job.options, file: job.video.file, bytes: job.video.bytes, server: this.o.publicUrl(), token: secret ?? '',
        ...(inputFiles(job.inputs).length ? { inputs: job.inputs } : {}),
      };
      // One attempt: a job that fails is the user's to fix; a job whose worker died comes back through the stalled check.
      await this.queue.add('edit', payload, { jobId: job.id, attempts: 1, removeOnComplete: 1000, removeOnFail: 1000 });
    } finally {
      this.submitting.delete(job.id);
    }
  }

  cancel(id: string): void {
    void (async () => {
      const job = await this.queue.getJob(id);
      const state = job ? await job.getState() : 'unknown';
      if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) await job.remove();
      else await this.redis.publish(CANCEL_CHANNEL, id);
    })().catch((err: Error) => console.error(`videoshop serve: cancelling job ${id}: ${err.message}`));
  }

  /** The table's queued and running jobs against the queue: ends missed while away are applied, lost jobs run again. */
  async reconcile(jobs: readonly JobRecord[]): Promise<void> {
    if (!this.handlers) return;
    for (const job of jobs) {
      if (this.submitting.has(job.id)) continue;
      const remote = await this.queue.getJob(job.id);
      const state = remote ? await remote.getState() : 'unknown';
      if (state === 'completed') this.completed(job.id, remote!.returnvalue as RemoteResult);
      else if (state === 'failed') this.failed(job.id, remote!.failedReason);
      else if (state === 'unknown') {
        this.reported.add(job.id);
        this.handlers.finished(job.id, { kind: 'lost', reason: 'the Redis queue lost this job' });
      } else if (state === 'active' && job.status === 'queued') this.handlers.started(job.id);
    }
  }

  modelState(): ModelState {
    return { state: 'remote', error: null, folder: null, device: 'remote', dtype: null };
  }

  geometry(): ModelGeometry | null {
    return this.lastGeometry;
  }

  pace(): null {
    return null;
  }

  onLoadFailed(): void {}

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
  }
}
