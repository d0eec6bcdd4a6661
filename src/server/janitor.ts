/**
 * Storage limits of the data folder: finished jobs older than `keepDays` and uploads older than a day are removed
 * (at start-up and hourly); before an upload is accepted, the oldest finished jobs make room under the quota, and
 * the upload is refused (507) when even that is not enough.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { HttpError } from './http-error.js';
import type { JobQueue } from './queue.js';

const UPLOAD_MAX_AGE_MS = 24 * 3600 * 1000;

export function dataUsage(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const full = path.join(dir, name);
    try {
      const st = statSync(full);
      total += st.isDirectory() ? dataUsage(full) : st.size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}

export class Janitor {
  readonly quotaBytes: number;
  readonly keepDays: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly dataDir: string, private readonly queue: JobQueue, opts: { quotaBytes: number; keepDays: number }) {
    this.quotaBytes = opts.quotaBytes;
    this.keepDays = opts.keepDays;
    this.sweep();
    this.timer = setInterval(() => this.sweep(), 3600 * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sweep(now = Date.now()): void {
    this.queue.prune({ before: new Date(now - this.keepDays * 24 * 3600 * 1000) });
    const uploads = path.join(this.dataDir, 'uploads');
    let names: string[];
    try {
      names = readdirSync(uploads);
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(uploads, name);
      try {
        if (now - statSync(full).mtimeMs > UPLOAD_MAX_AGE_MS) rmSync(full, { recursive: true, force: true });
      } catch {
        // removed meanwhile
      }
    }
  }

  /** Frees room for `incoming` bytes by removing the oldest finished jobs; 507 when the quota still can't hold them. */
  makeRoom(incoming: number): void {
    const need = () => dataUsage(this.dataDir) + incoming > this.quotaBytes;
    if (!need()) return;
    this.queue.prune({ shouldFree: need });
    if (need()) {
      throw new HttpError(507, `storage quota full (${(this.quotaBytes / 1024 ** 3).toFixed(1)} GB): delete finished jobs or start the server with a larger --quota-gb`);
    }
  }
}
