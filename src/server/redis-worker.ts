/**
 * `videoshop worker`: takes jobs from the Redis queue of a `videoshop serve --queue …`, runs each through the same
 * inference process as the server's own (model loaded once), and puts the result back. Inference runs in that child
 * process, so this process's event loop keeps renewing the job's lock during UNet calls; if this machine dies, the
 * lock expires and another worker gets the job.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { parseJobOptions } from './job-options.js';
import { ProgressTracker } from './progress.js';
import { assertRedisReachable, CANCEL_CHANNEL, fileKey, QUEUE_NAME, redisConnection, untilReady, type JobPayload, type RemoteProgress, type RemoteResult } from './redis-queue.js';
import { InferenceSlot } from './slot.js';
import type { WorkerConfig } from './worker-protocol.js';

export interface RemoteWorkerOptions {
  url: string;
  worker: WorkerConfig;
  /** Seconds a job's lock lasts without renewal: a dead worker's job is retried after about this long. */
  lockSeconds?: number;
  log?: (line: string) => void;
}

export interface RunningWorker {
  readonly id: string;
  close(): Promise<void>;
}

export async function startRemoteWorker(o: RemoteWorkerOptions): Promise<RunningWorker> {
  const id = `${hostname()}:${process.pid}`;
  const log = o.log ?? (() => {});
  await assertRedisReachable(o.url);
  const files = new Redis(o.url, { maxRetriesPerRequest: 3 });
  const sub = new Redis(o.url, { maxRetriesPerRequest: 3 });
  for (const client of [files, sub]) client.on('error', (err: Error) => log(`redis: ${err.message}`));
  await untilReady(Promise.all([files.ping(), sub.subscribe(CANCEL_CHANNEL)]), o.url, 10_000);
  // No test edit: this worker's pace would not reach the server's estimates.
  const slot = new InferenceSlot({ ...o.worker, calibrate: false });
  await new Promise<void>((resolve, reject) => {
    slot.once('ready', resolve);
    slot.once('load-failed', (message: string) => reject(new Error(`cannot load the model: ${message}`)));
  }).catch(async (err) => {
    await slot.stop();
    files.disconnect();
    sub.disconnect();
    throw err;
  });
  sub.on('message', (_channel: string, jobId: string) => slot.cancel(jobId));

  const runJob = async (job: Job<JobPayload>): Promise<RemoteResult> => {
    const { id: jobId, options, file } = job.data;
    const dir = mkdtempSync(path.join(tmpdir(), 'videoshop-worker-'));
    try {
      const [source, edited] = await Promise.all([files.getBuffer(fileKey(jobId, 'source')), files.getBuffer(fileKey(jobId, 'edited'))]);
      if (!source || !edited) throw new UnrecoverableError('the job\'s files are no longer in Redis');
      const video = path.join(dir, path.basename(file));
      writeFileSync(video, source);
      writeFileSync(path.join(dir, 'edited.png'), edited);
      const { edit } = parseJobOptions(options, { video, editedFrame: path.join(dir, 'edited.png'), output: path.join(dir, 'result.mp4'), model: o.worker.model });
      log(`job ${jobId}: started`);
      const tracker = new ProgressTracker();
      let last = 0;
      const outcome = await slot.run(jobId, { ...edit, force: true, device: o.worker.device }, {
        onProgress: (p) => {
          const progress = tracker.update(p);
          const now = performance.now();
          if (now - last < 200) return;
          last = now;
          void job.updateProgress({ ...progress, worker: id } satisfies RemoteProgress);
        },
      });
      if (outcome.kind === 'cancelled') throw new UnrecoverableError('cancelled');
      if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.message);
      await files.set(fileKey(jobId, 'result'), readFileSync(path.join(dir, 'result.mp4')), 'EX', 7 * 24 * 3600);
      log(`job ${jobId}: done`);
      return { result: outcome.result, warnings: outcome.warnings, worker: id };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const lockDuration = (o.lockSeconds ?? 30) * 1000;
  const worker = new Worker<JobPayload, RemoteResult>(QUEUE_NAME, runJob, {
    connection: redisConnection(o.url), concurrency: 1, lockDuration, stalledInterval: Math.max(1000, lockDuration / 2), maxStalledCount: 1,
  });
  worker.on('error', (err) => log(`redis: ${err.message}`));
  await worker.waitUntilReady();
  return {
    id,
    async close() {
      // Force: a job in progress is not waited for; its lock runs out and another worker runs it.
      await worker.close(true);
      await slot.stop();
      files.disconnect();
      sub.disconnect();
    },
  };
}
