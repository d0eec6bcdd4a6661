/**
 * `videoshop worker`: takes jobs from the Redis queue of a `videoshop serve --queue …`, fetches each job's media from
 * that server over HTTP (worker-media.ts), runs it through the same inference process as the server's own (model
 * loaded once), and sends the result back over HTTP. Inference runs in that child process, so this process's event
 * loop keeps renewing the job's lock during UNet calls; if this machine dies, the lock expires and another worker
 * gets the job.
 *
 * A job Redis loses while it runs (its key evicted or flushed) is noticed when its progress cannot be written: the run
 * is stopped and this worker takes the next job — the server notices too and queues it again.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { SerializedError } from '../edit/index.js';
import { jobRequest, MASKS_FILE, RESULT_FILE } from './job-options.js';
import {
  assertRedisReachable, CANCEL_CHANNEL, failureReason, QUEUE_NAME, redisConnection, untilReady, type JobPayload, type RemoteProgress, type RemoteResult,
} from './redis-dispatcher.js';
import { InferenceSlot } from './slot.js';
import { inputFiles } from './job-inputs.js';
import { downloadFile, uploadFile } from './worker-media.js';
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

const TEMP_PREFIX = 'videoshop-worker-';

/** Folders of workers on this machine that are no longer running (killed mid-job): theirs to remove, not ours. */
function removeStaleFolders(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^videoshop-worker-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

export async function startRemoteWorker(o: RemoteWorkerOptions): Promise<RunningWorker> {
  const id = `${hostname()}:${process.pid}`;
  const log = o.log ?? (() => {});
  await assertRedisReachable(o.url);
  removeStaleFolders();
  const sub = new Redis(o.url, { maxRetriesPerRequest: 3 });
  sub.on('error', (err: Error) => log(`redis: ${err.message}`));
  await untilReady(sub.subscribe(CANCEL_CHANNEL), o.url, 10_000);
  // No test edit: this worker's pace would not reach the server's estimates.
  const scratch = mkdtempSync(path.join(tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
  const slot = new InferenceSlot({ ...o.worker, calibrate: false, tempDir: scratch });
  const geometry = await new Promise<RemoteResult['geometry']>((resolve, reject) => {
    slot.once('ready', () => resolve(slot.model?.geometry));
    slot.once('load-failed', (error: SerializedError) => reject(new Error(`cannot load the model: ${error.message}`)));
  }).catch(async (err) => {
    await slot.stop();
    sub.disconnect();
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  });
  const aborts = new Map<string, AbortController>();
  sub.on('message', (_channel: string, jobId: string) => {
    slot.cancel(jobId);
    aborts.get(jobId)?.abort();
  });
  let current: Promise<unknown> | null = null;

  const runJob = async (job: Job<JobPayload>): Promise<RemoteResult> => {
    const { id: jobId, options, file, server, token, inputs = {} } = job.data;
    const dir = path.join(scratch, jobId);
    const abort = new AbortController();
    aborts.set(jobId, abort);
    const fail = (error: SerializedError) => new UnrecoverableError(failureReason(error));
    try {
      mkdirSync(dir, { recursive: true });
      const base = new URL(`api/worker/jobs/${jobId}/`, server);
      const transfer = { token, signal: abort.signal };
      const video = path.basename(file);
      try {
        await downloadFile(new URL('source', base).href, path.join(dir, video), transfer);
        await downloadFile(new URL('edited.png', base).href, path.join(dir, 'edited.png'), transfer);
        for (const name of inputFiles(inputs)) await downloadFile(new URL(`files/${name}`, base).href, path.join(dir, name), transfer);
      } catch (err) {
        if (abort.signal.aborted) throw fail({ code: 'cancelled', message: 'cancelled' });
        throw fail({ code: 'media_unavailable', message: `could not fetch the job's files from the server: ${(err as Error).message}` });
      }
      const request = jobRequest(options, video, dir, o.worker.model, o.worker.unet, inputs);
      log(`job ${jobId}: started`);
      let last = 0;
      let lost = false;
      const outcome = await slot.run(jobId, request, {
        onProgress: (progress) => {
          const now = performance.now();
          if (now - last < 200 || lost) return;
          last = now;
          job.updateProgress({ progress, worker: id } satisfies RemoteProgress as unknown as object).catch((err: Error) => {
            // The job's key is gone (Redis lost it, or it was removed): stop working on it.
            if (lost) return;
            lost = true;
            log(`job ${jobId}: lost by Redis (${err.message}); stopping it`);
            slot.cancel(jobId, 5000);
          });
        },
      });
      if (lost) throw fail({ code: 'lost', message: 'the Redis queue lost this job' });
      if (outcome.kind === 'cancelled') throw fail({ code: 'cancelled', message: 'cancelled' });
      if (outcome.kind === 'failed') throw fail(outcome.error);
      try {
        // The masks first: once the result is complete the server may finish the job.
        if (existsSync(path.join(dir, MASKS_FILE))) await uploadFile(new URL('masks', base).href, path.join(dir, MASKS_FILE), transfer);
        await uploadFile(new URL('result', base).href, path.join(dir, RESULT_FILE), transfer);
      } catch (err) {
        throw fail({ code: 'result_missing', message: `could not send the result to the server: ${(err as Error).message}` });
      }
      log(`job ${jobId}: done`);
      return { result: outcome.result, warnings: outcome.warnings, worker: id, geometry };
    } finally {
      aborts.delete(jobId);
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const lockDuration = (o.lockSeconds ?? 30) * 1000;
  const worker = new Worker<JobPayload, RemoteResult>(QUEUE_NAME, (job) => {
    const run = runJob(job);
    current = run.catch(() => {});
    return run;
  }, {
    connection: redisConnection(o.url), concurrency: 1, lockDuration, stalledInterval: Math.max(1000, lockDuration / 2), maxStalledCount: 1,
  });
  worker.on('error', (err) => log(`redis: ${err.message}`));
  await worker.waitUntilReady();
  return {
    id,
    async close() {
      // Force: a job in progress is not waited for; its lock runs out and another worker runs it. Its files go.
      await worker.close(true);
      for (const a of aborts.values()) a.abort();
      await slot.stop();
      await current;
      sub.disconnect();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
