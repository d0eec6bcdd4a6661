/**
 * A job's media between the server and a remote worker (Redis mode), over HTTP rather than inside Redis: the worker
 * downloads the source and the edited frame (resuming with Range after a dropped connection) and uploads its result
 * (resuming with Content-Range), streamed both ways — a 2 GB video never sits in memory or in a Redis string, and the
 * server's event loop only moves chunks. The job's own secret (Bearer) authorizes both.
 *
 * Server side: `receiveResult` appends a range to `result.mp4.part` and renames it to `result.mp4` once complete.
 * Worker side: `downloadFile`, `uploadFile`.
 */
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from './http.js';
import { RESULT_FILE } from './job-options.js';

export interface ResultStatus {
  received: number;
  complete: boolean;
}

/** How much of `file` (the result, or the mask video beside it) has arrived. */
export function resultStatus(dir: string, file = RESULT_FILE): ResultStatus {
  if (existsSync(path.join(dir, file))) return { received: statSync(path.join(dir, file)).size, complete: true };
  const part = statSync(path.join(dir, `${file}.part`), { throwIfNoEntry: false });
  return { received: part?.size ?? 0, complete: false };
}

/**
 * PUT …/result: the body is bytes `start`…`end` of `total` (Content-Range), or the whole file. A range must start where
 * the received part ends (409 says where, to resume from). Checked against `maxBytes` before a byte is stored.
 */
export async function receiveResult(req: IncomingMessage, dir: string,
  limits: { maxBytes: number; account: { add(bytes: number): void }; idleMs?: number }, file = RESULT_FILE): Promise<ResultStatus> {
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
  const length = Number(req.headers['content-length'] ?? NaN);
  const start = range ? Number(range[1]) : 0;
  const total = range ? Number(range[3]) : length;
  if (!Number.isSafeInteger(total) || total <= 0) throw new HttpError(411, 'send the result with a Content-Length or a Content-Range');
  if (total > limits.maxBytes) throw new HttpError(413, `the result is ${total} bytes: more than this job may send (${limits.maxBytes})`);
  const have = resultStatus(dir, file);
  if (have.complete) return have;
  if (start !== have.received) throw new HttpError(409, `the result continues at byte ${have.received}, not ${start}`, 'resume_elsewhere');
  const part = path.join(dir, `${file}.part`);
  let received = 0;
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => req.destroy(new Error('the result stopped arriving')), limits.idleMs ?? 30_000);
    idle.unref();
  };
  arm();
  const counted = new Readable({ read() {} });
  req.on('data', (chunk: Buffer) => {
    arm();
    received += chunk.length;
    if (start + received > total) return req.destroy(new Error('more bytes than announced'));
    try {
      limits.account.add(chunk.length);
    } catch (err) {
      req.destroy(err as Error);
      return;
    }
    counted.push(chunk);
  });
  req.on('end', () => counted.push(null));
  req.on('error', (err) => counted.destroy(err));
  req.on('aborted', () => counted.destroy(new Error('aborted')));
  try {
    await pipeline(counted, createWriteStream(part, { flags: start === 0 ? 'w' : 'a' }));
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const status = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 507 : 400;
    throw new HttpError(status, `the result was cut off at byte ${resultStatus(dir, file).received}: resume from there`, 'incomplete');
  } finally {
    clearTimeout(idle);
  }
  const now = resultStatus(dir, file);
  if (now.received > total) {
    rmSync(part, { force: true });
    throw new HttpError(400, 'the result is longer than announced: send it again', 'incomplete');
  }
  if (now.received === total) {
    renameSync(part, path.join(dir, file));
    return { received: total, complete: true };
  }
  return now;
}

// --- the worker's side ------------------------------------------------------------------------------------------

export interface TransferOptions {
  token: string;
  /** Attempts after a transfer cut short before giving up (default 5, with back-off). */
  retries?: number;
  /** How long to keep trying while the server cannot be reached at all (restarting, say): default 10 minutes. */
  patienceMs?: number;
  signal?: AbortSignal;
}

/** No connection at all (the server is down or restarting), as opposed to a transfer cut short. */
function unreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN' || code === 'UND_ERR_CONNECT_TIMEOUT') return true;
  }
  return false;
}

/**
 * Runs `attempt` until it succeeds: a server that cannot be reached is waited for (up to `patienceMs`: a restart
 * must not fail the job), a transfer cut short is resumed (up to `retries` times); the server's refusals are final.
 */
async function retrying<T>(what: string, o: TransferOptions, attempt: () => Promise<T>): Promise<T> {
  const retries = o.retries ?? 5;
  const deadline = Date.now() + (o.patienceMs ?? 600_000);
  for (let i = 0, failures = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const down = unreachable(err);
      if (!down) failures++;
      if (o.signal?.aborted || err instanceof HttpError || failures > retries || (down && Date.now() > deadline)) {
        throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      }
      await sleep(Math.min(5000, 250 * 2 ** Math.min(i, 5)), undefined, { signal: o.signal });
    }
  }
}

async function failure(res: Response): Promise<HttpError> {
  const body = (await res.json().catch(() => ({}))) as { error?: string; code?: string };
  return new HttpError(res.status, body.error ?? `HTTP ${res.status}`, body.code);
}

/** GET `url` into `file`, resuming where a dropped connection left it; the size must match what the server said. */
export async function downloadFile(url: string, file: string, o: TransferOptions): Promise<number> {
  rmSync(file, { force: true });
  return retrying(`downloading ${path.basename(file)}`, o, async () => {
    const have = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    const res = await fetch(url, { headers: { Authorization: `Bearer ${o.token}`, ...(have ? { Range: `bytes=${have}-` } : {}) }, signal: o.signal });
    if (res.status === 416) return have; // complete already
    if (!res.ok || !res.body) throw await failure(res);
    const resumed = res.status === 206;
    const total = resumed ? Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]) : Number(res.headers.get('content-length'));
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file, { flags: resumed ? 'a' : 'w' }));
    const size = statSync(file).size;
    if (Number.isFinite(total) && size !== total) throw new Error(`got ${size} of ${total} bytes`);
    return size;
  });
}

/** PUT `file` to `url`, resuming from what the server has after a dropped connection. */
export async function uploadFile(url: string, file: string, o: TransferOptions): Promise<void> {
  const total = statSync(file).size;
  await retrying('sending the result', o, async () => {
    const status = await fetch(url, { headers: { Authorization: `Bearer ${o.token}` }, signal: o.signal });
    if (!status.ok) throw await failure(status);
    const { received, complete } = (await status.json()) as ResultStatus;
    if (complete) return;
    const body = Readable.toWeb(createReadStream(file, { start: received }));
    const res = await fetch(url, {
      method: 'PUT', body: body as unknown as RequestInit['body'], duplex: 'half', signal: o.signal,
      headers: { Authorization: `Bearer ${o.token}`, 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${received}-${total - 1}/${total}` },
    } as RequestInit);
    if (res.status === 409) throw new Error('the server has another part of the result: resuming');
    if (!res.ok) throw await failure(res);
    const done = (await res.json()) as ResultStatus;
    if (!done.complete) throw new Error(`the server has ${done.received} of ${total} bytes`);
  });
}
