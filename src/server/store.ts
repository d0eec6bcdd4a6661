/**
 * The job table, in SQLite inside the data folder: queued jobs survive a restart, and the history (with its files
 * under jobs/<id>/) outlives the process. Ids are chosen here, never by a client.
 *
 * SQLite's own failures never escape as stack traces: a table that cannot be opened (not a database, a folder, a
 * damaged file, a full disk) is one line at start-up, and the user's file is never deleted or rewritten; a write
 * that fails (disk full, read-only, locked) is a StorageError the caller turns into a failed request or a job state
 * kept in memory until the write succeeds — reads go on meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { VideoshopError } from '../edit/index.js';
import type { JobProgress, JobStatus } from './api-types.js';
import { inputFiles, type JobInputs } from './job-inputs.js';

export type { JobProgress, JobStatus } from './api-types.js';
export const FINISHED: readonly JobStatus[] = ['done', 'failed', 'cancelled'];

export interface VideoSummary {
  /** The uploaded file's name, for display only. */
  name: string;
  /** The server's name for it inside the job's folder. */
  file: string;
  width: number;
  height: number;
  frames: number;
  fps: number;
  duration_s: number;
  bytes: number;
}

export interface JobRecord {
  id: string;
  status: JobStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  options: Record<string, unknown>;
  video: VideoSummary;
  progress: JobProgress | null;
  error: string | null;
  /** The failure's stable code (VideoshopError.code), when failed. */
  error_code: string | null;
  warnings: string[];
  /** How many times a run was started (a crash mid-run leaves it > 0 with status queued). */
  attempts: number;
  /** Why an earlier run of it was cut off and it went back to the queue (it starts over), or null. */
  requeued: string | null;
  /** Result summary once done: frames, seconds per stage. */
  result: Record<string, unknown> | null;
  inputs: JobInputs;
}

/** Ids are 16 lowercase hex digits; anything else in a URL is not a job. */
export const ID_PATTERN = /^[0-9a-f]{16}$/;

export function newId(): string {
  return randomBytes(8).toString('hex');
}

/** A write the table could not take (disk full, read-only, locked…): `code` storage_full or storage_error. */
export class StorageError extends VideoshopError {
  override name = 'StorageError';
}

interface Row {
  id: string;
  seq: number;
  status: JobStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  options: string;
  video: string;
  progress: string | null;
  error: string | null;
  error_code: string | null;
  warnings: string;
  attempts: number;
  result: string | null;
  token: string | null;
  requeued: string | null;
  inputs: string | null;
}

function fromRow(r: Row): JobRecord {
  return {
    id: r.id, status: r.status, created_at: r.created_at, started_at: r.started_at, finished_at: r.finished_at,
    options: JSON.parse(r.options), video: JSON.parse(r.video), progress: r.progress ? JSON.parse(r.progress) : null,
    error: r.error, error_code: r.error_code ?? null, warnings: JSON.parse(r.warnings), attempts: r.attempts,
    requeued: r.requeued ?? null,
    result: r.result ? JSON.parse(r.result) : null, inputs: r.inputs ? JSON.parse(r.inputs) : {},
  };
}

/** SQLite's error codes (better-sqlite3 puts them in `code`) → what the user reads. */
function storageError(err: unknown, doing: string): StorageError {
  const code = String((err as { code?: unknown }).code ?? '');
  if (code === 'SQLITE_FULL' || /ENOSPC|disk is full|database or disk is full/i.test(String((err as Error).message))) {
    return new StorageError('storage_full', `the data folder's disk is full (${doing}): free some space or delete finished jobs`, { cause: err });
  }
  const what = code === 'SQLITE_READONLY' ? 'is read-only' : code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' ? 'is locked by another process'
    : code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' ? 'is damaged' : `failed (${code || (err as Error).message})`;
  return new StorageError('storage_error', `the job table ${what} (${doing})`, { cause: err });
}

export class JobStore {
  private readonly db: Database.Database;

  /** Opens (or creates) the table; a file that is not a usable job table is one VideoshopError line, never deleted. */
  constructor(readonly file: string) {
    const st = statSync(file, { throwIfNoEntry: false });
    if (st && !st.isFile()) {
      throw new VideoshopError('storage_error', `${file} is not a file (a folder?): move it away, or choose another --data-dir`);
    }
    try {
      this.db = new Database(file, { timeout: 5000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
        started_at TEXT, finished_at TEXT, options TEXT NOT NULL, video TEXT NOT NULL, progress TEXT, error TEXT,
        warnings TEXT NOT NULL DEFAULT '[]', attempts INTEGER NOT NULL DEFAULT 0, result TEXT)`);
      this.db.exec('CREATE INDEX IF NOT EXISTS jobs_status_seq ON jobs (status, seq)');
      // Columns added since the first version of the table.
      const columns = new Set((this.db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[]).map((c) => c.name));
      if (!columns.has('error_code')) this.db.exec('ALTER TABLE jobs ADD COLUMN error_code TEXT');
      if (!columns.has('token')) this.db.exec('ALTER TABLE jobs ADD COLUMN token TEXT');
      if (!columns.has('requeued')) this.db.exec('ALTER TABLE jobs ADD COLUMN requeued TEXT');
      if (!columns.has('inputs')) this.db.exec('ALTER TABLE jobs ADD COLUMN inputs TEXT');
    } catch (err) {
      const e = storageError(err, 'opening it');
      const fix = e.code === 'storage_full' ? 'free some space' : 'move the file away (it is left as it is) or choose another --data-dir';
      throw new VideoshopError(e.code, `cannot use ${file} as the job table: ${e.message.replace(/^the job table /, '')}; ${fix}`, { cause: err });
    }
  }

  private write<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storageError(err, doing);
    }
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storageError(err, 'reading it');
    }
  }

  insert(job: Pick<JobRecord, 'id' | 'options' | 'video'> & { inputs?: JobInputs }, token: string | null = null): JobRecord {
    this.write('adding a job', () => {
      const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM jobs').get() as { n: number }).n;
      const inputs = job.inputs && inputFiles(job.inputs).length ? JSON.stringify(job.inputs) : null;
      this.db.prepare(`INSERT INTO jobs (id, seq, status, created_at, options, video, token, inputs) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)`)
        .run(job.id, seq, new Date().toISOString(), JSON.stringify(job.options), JSON.stringify(job.video), token, inputs);
    });
    return this.get(job.id)!;
  }

  get(id: string): JobRecord | undefined {
    const row = this.read(() => this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined);
    return row && fromRow(row);
  }

  /** The secret a remote worker shows to fetch this job's files and send its result (null for local jobs). */
  token(id: string): string | null {
    return this.read(() => (this.db.prepare('SELECT token FROM jobs WHERE id = ?').get(id) as { token: string | null } | undefined)?.token ?? null);
  }

  /** Newest first. */
  list(): JobRecord[] {
    return this.read(() => (this.db.prepare('SELECT * FROM jobs ORDER BY seq DESC').all() as Row[]).map(fromRow));
  }

  /** Jobs in these states, oldest first. */
  withStatus(...statuses: JobStatus[]): JobRecord[] {
    const marks = statuses.map(() => '?').join(', ');
    return this.read(() => (this.db.prepare(`SELECT * FROM jobs WHERE status IN (${marks}) ORDER BY seq`).all(...statuses) as Row[]).map(fromRow));
  }

  /** The oldest queued job (FIFO). */
  nextQueued(): JobRecord | undefined {
    const row = this.read(() => this.db.prepare(`SELECT * FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1`).get() as Row | undefined);
    return row && fromRow(row);
  }

  /** 1-based place in the queue, or null when not queued. */
  queuePosition(id: string): number | null {
    return this.read(() => {
      const job = this.db.prepare(`SELECT seq, status FROM jobs WHERE id = ?`).get(id) as { seq: number; status: string } | undefined;
      if (!job || job.status !== 'queued') return null;
      return (this.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' AND seq <= ?`).get(job.seq) as { n: number }).n;
    });
  }

  counts(): { queued: number; running: number } {
    const rows = this.read(() => this.db.prepare(`SELECT status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') GROUP BY status`)
      .all() as { status: string; n: number }[]);
    return { queued: rows.find((r) => r.status === 'queued')?.n ?? 0, running: rows.find((r) => r.status === 'running')?.n ?? 0 };
  }

  markRunning(id: string): void {
    this.write('starting a job', () => this.db.prepare(`UPDATE jobs SET status = 'running', started_at = ?, attempts = attempts + 1, progress = NULL WHERE id = ?`)
      .run(new Date().toISOString(), id));
  }

  setProgress(id: string, progress: JobProgress): void {
    this.write('saving progress', () => this.db.prepare('UPDATE jobs SET progress = ? WHERE id = ?').run(JSON.stringify(progress), id));
  }

  finish(id: string, status: Exclude<JobStatus, 'queued' | 'running'>,
    fields: { error?: string; errorCode?: string; warnings?: string[]; result?: Record<string, unknown>; progress?: JobProgress | null;
      /** When it ended, if that was before this write (a write the disk refused at first). */
      finishedAt?: string; } = {}): void {
    this.write('finishing a job', () => {
      this.db.prepare('UPDATE jobs SET status = ?, finished_at = ?, error = ?, error_code = ?, warnings = ?, result = ? WHERE id = ?')
        .run(status, fields.finishedAt ?? new Date().toISOString(), fields.error ?? null, fields.errorCode ?? null, JSON.stringify(fields.warnings ?? []),
          fields.result ? JSON.stringify(fields.result) : null, id);
      if (fields.progress) this.db.prepare('UPDATE jobs SET progress = ? WHERE id = ?').run(JSON.stringify(fields.progress), id);
    });
  }

  /**
   * Back to the queue, saying why (the page shows it: the job starts over); `countAttempt` false when the run did not
   * fail (a clean stop of the server).
   */
  requeue(id: string, why: string, countAttempt = true): void {
    this.write('re-queueing a job', () => this.db.prepare(
      `UPDATE jobs SET status = 'queued', started_at = NULL, progress = NULL, attempts = MAX(0, attempts - ?), requeued = ? WHERE id = ?`)
      .run(countAttempt ? 0 : 1, why, id));
  }

  delete(id: string): void {
    this.write('deleting a job', () => this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id));
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // nothing left to save
    }
  }
}
