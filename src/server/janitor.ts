/**
 * Storage limits of the data folder. Finished jobs older than `keepDays` and uploads older than a day are removed
 * (at start-up and hourly). The quota counts what uploads in flight reserve — their declared length up front, and the
 * bytes that actually arrive beyond it — atomically, so concurrent uploads cannot overrun it together. Finished jobs
 * count as room (they can go), but only an upload that was accepted removes any of them, oldest first: a refused
 * request never deletes anything.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { HttpError } from './http.js';
import type { JobQueue } from './queue.js';

const UPLOAD_MAX_AGE_MS = 24 * 3600 * 1000;
/** How long a measured folder size is trusted (measuring walks the folder). */
const USAGE_TTL_MS = 2000;

/** Bytes under `dir`; `committed`: without uploads in flight (`.<id>.partial` folders, counted by their reservations). */
export function dataUsage(dir: string, committed = false): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    if (committed && name.endsWith('.partial')) continue;
    const full = path.join(dir, name);
    try {
      const st = statSync(full);
      total += st.isDirectory() ? dataUsage(full, committed) : st.size;
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
  /** Bytes received by uploads in flight (already on disk, but counted here until they are accepted or dropped). */
  private reserved = 0;
  private measured: { at: number; used: number; reclaimable: number } | null = null;

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
    this.measured = null;
  }

  private usage(): { used: number; reclaimable: number } {
    const now = Date.now();
    if (!this.measured || now - this.measured.at > USAGE_TTL_MS) {
      this.measured = { at: now, used: dataUsage(this.dataDir, true), reclaimable: this.queue.finishedBytes((d) => dataUsage(d)) };
    }
    return this.measured;
  }

  /** Bytes in use, as last measured (the health endpoint). */
  usedBytes(): number {
    return this.usage().used;
  }

  /**
   * An upload's account. `expected` (a declared Content-Length, within the upload limit) is reserved at once, so
   * concurrent uploads cannot all start and all fail half-way: the first that fit go on, the others get 507 before
   * sending anything. `add(n)` counts every chunk as it arrives; bytes beyond the reservation reserve more (a chunked
   * body reserves as it goes). 507 once the quota could not hold it even after removing every finished job.
   * `release()` when the request ends either way.
   */
  open(expected = 0): { add(bytes: number): void; release(): void } {
    let reserved = 0;
    let received = 0;
    const reserve = (bytes: number) => {
      const { used, reclaimable } = this.usage();
      if (used - reclaimable + this.reserved + bytes > this.quotaBytes) {
        throw new HttpError(507, `storage quota full (${(this.quotaBytes / 1024 ** 3).toFixed(1)} GB): delete finished jobs or start the server with a larger --quota-gb`);
      }
      this.reserved += bytes;
      reserved += bytes;
    };
    if (expected > 0) reserve(expected);
    return {
      add: (bytes) => {
        received += bytes;
        if (received > reserved) reserve(received - reserved);
      },
      release: () => {
        this.reserved -= reserved;
        reserved = 0;
        this.measured = null;
      },
    };
  }

  /** After an upload was accepted: the oldest finished jobs go until the folder is within the quota again. */
  makeRoom(): void {
    this.measured = null;
    const over = () => dataUsage(this.dataDir, true) + this.reserved > this.quotaBytes;
    if (over()) this.queue.prune({ shouldFree: over });
    this.measured = null;
  }
}
