/** What the server tests share: a server on 127.0.0.1 (in-process), multipart job requests, an SSE reader. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer, type ServeConfig } from '../../src/server/server.js';
import { spawnVideoshop, type CliProcess } from '../helpers/cli.js';
import type { JobProgress } from '../../src/server/api-types.js';

export async function startTestServer(dataDir: string, model: string, extra: Partial<ServeConfig> = {}): Promise<RunningServer> {
  return startServer({ host: '127.0.0.1', port: 0, dataDir, worker: { model, device: 'cpu' }, ...extra });
}

export function fileBlob(file: string, type = 'application/octet-stream'): Blob {
  return new Blob([readFileSync(file)], { type });
}

export interface JobForm {
  video?: string;
  upload?: string;
  editedFrame?: string;
  options?: unknown;
  /** File name the client claims for the video (default: its base name). */
  videoName?: string;
}

export function jobForm(f: JobForm): FormData {
  const form = new FormData();
  if (f.video) form.append('video', fileBlob(f.video, 'video/mp4'), f.videoName ?? path.basename(f.video));
  if (f.upload) form.append('upload', f.upload);
  if (f.options !== undefined) form.append('options', typeof f.options === 'string' ? f.options : JSON.stringify(f.options));
  if (f.editedFrame) form.append('edited_frame', fileBlob(f.editedFrame, 'image/png'), path.basename(f.editedFrame));
  return form;
}

export async function postJob(base: string, f: JobForm, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL('/api/jobs', base), { method: 'POST', body: jobForm(f), headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function getJson(base: string, p: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(new URL(p, base), init);
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${p}: not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, body, headers: res.headers };
}

export interface JobJson {
  id: string;
  status: string;
  progress: JobProgress | null;
  error: string | null;
  attempts: number;
  requeued: string | null;
  started_at: string | null;
  queue_position: number | null;
}

/**
 * Reads a job's Server-Sent Events until `until(job)` holds or the stream ends; returns every job state seen.
 * `timeoutMs` bounds the wait.
 */
export async function readEvents(base: string, id: string, until: (job: JobJson) => boolean = () => false, timeoutMs = 90_000,
  headers: Record<string, string> = {}): Promise<JobJson[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const seen: JobJson[] = [];
  try {
    const res = await fetch(new URL(`/api/jobs/${id}/events`, base), { signal: controller.signal, headers });
    if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(message)?.[1];
        const data = /^data: (.*)$/m.exec(message)?.[1];
        if (event === 'job' && data) {
          const job = JSON.parse(data) as JobJson;
          seen.push(job);
          if (until(job)) return seen;
        }
        if (event === 'end') return seen;
      }
    }
    return seen;
  } catch (err) {
    if (controller.signal.aborted) throw new Error(`events of ${id}: no end within ${timeoutMs} ms (last: ${JSON.stringify(seen.at(-1))})`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

export async function waitFinished(base: string, id: string, timeoutMs = 90_000): Promise<JobJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getJson(base, `/api/jobs/${id}`);
    const job = body as unknown as JobJson;
    if (['done', 'failed', 'cancelled'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} not finished after ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface ServeProcess {
  cli: CliProcess;
  url: string;
}

/** Starts `videoshop serve` as a user does (a child process) and resolves once it printed its URL. */
export async function spawnServe(args: string[], o: { env: Record<string, string | undefined>; model: string; timeoutMs?: number }): Promise<ServeProcess> {
  const cli = spawnVideoshop(['serve', '--port', '0', '--model', o.model, ...args], { env: o.env, timeoutMs: o.timeoutMs ?? 400_000 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /^videoshop serve: (http:\/\/\S+)$/m.exec(cli.stdout());
    if (m) return { cli, url: m[1] };
    if (cli.child.exitCode !== null || Date.now() > deadline) {
      const r = await Promise.race([cli.done, new Promise((r) => setTimeout(r, 100))]);
      throw new Error(`serve did not start: ${JSON.stringify(r)} ${cli.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
