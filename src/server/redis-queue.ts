/**
 * Scale-out over Redis (`videoshop serve --queue redis://…`): the server puts each job on a BullMQ queue, with its
 * input files stored in Redis beside it, so a `videoshop worker` on any machine that reaches Redis can run it; the
 * worker puts the result back the same way. Progress arrives as BullMQ progress events, cancellation goes out on a
 * pub/sub channel. A worker that dies mid-job stops renewing the job's lock: BullMQ's stalled-job check in the
 * other workers moves the job back to the queue, and one of them runs it again.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobProgress, JobRecord } from './store.js';

export const QUEUE_NAME = 'videoshop';
export const CANCEL_CHANNEL = 'videoshop:cancel';
/** Files wait in Redis at most a week (a job that nobody runs does not keep them forever). */
const FILE_TTL_S = 7 * 24 * 3600;

export const fileKey = (id: string, what: 'source' | 'edited' | 'result') => `videoshop:file:${id}:${what}`;

/** What a worker sends with each progress event and returns at the end. */
export interface RemoteProgress extends JobProgress {
  worker: string;
}

export interface RemoteResult {
  result: Record<string, unknown>;
  warnings: string[];
  worker: string;
}

export interface JobPayload {
  id: string;
  options: Record<string, unknown>;
  /** The source's file name inside the job (for its extension). */
  file: string;
}

export interface RemoteHandlers {
  active(id: string): void;
  progress(id: string, p: RemoteProgress): void;
  completed(id: string, r: RemoteResult): void;
  failed(id: string, message: string): void;
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

export class RedisDispatcher {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly redis: Redis;

  private constructor(readonly url: string) {
    this.queue = new Queue(QUEUE_NAME, { connection: redisConnection(url) });
    this.events = new QueueEvents(QUEUE_NAME, { connection: redisConnection(url) });
    this.redis = new Redis(url, { maxRetriesPerRequest: 3 });
    // Losing Redis for a while is survivable (the clients reconnect): report it, don't crash.
    const report = (err: Error) => console.error(`videoshop serve: redis: ${err.message}`);
    this.queue.on('error', report);
    this.events.on('error', report);
    this.redis.on('error', report);
  }

  static async connect(url: string): Promise<RedisDispatcher> {
    await assertRedisReachable(url);
    const d = new RedisDispatcher(url);
    await d.ready();
    return d;
  }

  async ready(timeoutMs = 10_000): Promise<void> {
    await untilReady(Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady(), this.redis.ping()]), this.url, timeoutMs);
  }

  attach(h: RemoteHandlers): void {
    this.events.on('active', ({ jobId }) => h.active(jobId));
    this.events.on('progress', ({ jobId, data }) => h.progress(jobId, data as unknown as RemoteProgress));
    this.events.on('completed', ({ jobId, returnvalue }) => h.completed(jobId, returnvalue as unknown as RemoteResult));
    this.events.on('failed', ({ jobId, failedReason }) => h.failed(jobId, failedReason));
  }

  async enqueue(job: JobRecord, dir: string): Promise<void> {
    await this.redis.multi()
      .set(fileKey(job.id, 'source'), readFileSync(path.join(dir, job.video.file)), 'EX', FILE_TTL_S)
      .set(fileKey(job.id, 'edited'), readFileSync(path.join(dir, 'edited.png')), 'EX', FILE_TTL_S)
      .exec();
    const payload: JobPayload = { id: job.id, options: job.options, file: job.video.file };
    // One attempt: a job that fails is the user's to fix; a job whose worker died comes back through the stalled check.
    await this.queue.add('edit', payload, { jobId: job.id, attempts: 1, removeOnComplete: 1000, removeOnFail: 1000 });
  }

  /** The result's bytes (then removed from Redis with the inputs). */
  async takeResult(id: string): Promise<Buffer | null> {
    const data = await this.redis.getBuffer(fileKey(id, 'result'));
    await this.forget(id);
    return data;
  }

  async forget(id: string): Promise<void> {
    await this.redis.del(fileKey(id, 'source'), fileKey(id, 'edited'), fileKey(id, 'result'));
  }

  /** Queued: removed from the queue (true). Running: its worker is told to stop (false). */
  async cancel(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    const state = job ? await job.getState() : 'unknown';
    if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) {
      await job.remove();
      await this.forget(id);
      return true;
    }
    await this.redis.publish(CANCEL_CHANNEL, id);
    return false;
  }

  async state(id: string): Promise<{ state: string; result?: RemoteResult; reason?: string }> {
    const job = await this.queue.getJob(id);
    if (!job) return { state: 'unknown' };
    const state = await job.getState();
    return { state, result: job.returnvalue as RemoteResult | undefined, reason: job.failedReason };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
  }
}
