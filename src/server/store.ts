/**
 * The job table, in SQLite inside the data folder: queued jobs survive a restart, and the history (with its files
 * under jobs/<id>/) outlives the process. Ids are chosen here, never by a client.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';

import type { JobProgress, JobStatus } from './api-types.js';

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
  warnings: string[];
  /** How many times a run was started (a crash mid-run leaves it > 0 with status queued). */
  attempts: number;
  /** Result summary once done: frames, seconds per stage. */
  result: Record<string, unknown> | null;
}

/** Ids are 16 lowercase hex digits; anything else in a URL is not a job. */
export const ID_PATTERN = /^[0-9a-f]{16}$/;

export function newId(): string {
  return randomBytes(8).toString('hex');
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
  warnings: string;
  attempts: number;
  result: string | null;
}

function fromRow(r: Row): JobRecord {
  return {
    id: r.id, status: r.status, created_at: r.created_at, started_at: r.started_at, finished_at: r.finished_at,
    options: JSON.parse(r.options), video: JSON.parse(r.video), progress: r.progress ? JSON.parse(r.progress) : null,
    error: r.error, warnings: JSON.parse(r.warnings), attempts: r.attempts, result: r.result ? JSON.parse(r.result) : null,
  };
}

export class JobStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
      started_at TEXT, finished_at TEXT, options TEXT NOT NULL, video TEXT NOT NULL, progress TEXT, error TEXT,
      warnings TEXT NOT NULL DEFAULT '[]', attempts INTEGER NOT NULL DEFAULT 0, result TEXT)`);
    this.db.exec('CREATE INDEX IF NOT EXISTS jobs_status_seq ON jobs (status, seq)');
  }

  insert(job: Pick<JobRecord, 'id' | 'options' | 'video'>): JobRecord {
    const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM jobs').get() as { n: number }).n;
    this.db.prepare(`INSERT INTO jobs (id, seq, status, created_at, options, video) VALUES (?, ?, 'queued', ?, ?, ?)`)
      .run(job.id, seq, new Date().toISOString(), JSON.stringify(job.options), JSON.stringify(job.video));
    return this.get(job.id)!;
  }

  get(id: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  /** Newest first. */
  list(): JobRecord[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY seq DESC').all() as Row[]).map(fromRow);
  }

  /** The oldest queued job (FIFO). */
  nextQueued(): JobRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1`).get() as Row | undefined;
    return row && fromRow(row);
  }

  /** 1-based place in the queue, or null when not queued. */
  queuePosition(id: string): number | null {
    const job = this.db.prepare(`SELECT seq, status FROM jobs WHERE id = ?`).get(id) as { seq: number; status: string } | undefined;
    if (!job || job.status !== 'queued') return null;
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' AND seq <= ?`).get(job.seq) as { n: number }).n;
  }

  markRunning(id: string): void {
    this.db.prepare(`UPDATE jobs SET status = 'running', started_at = ?, attempts = attempts + 1, progress = NULL WHERE id = ?`)
      .run(new Date().toISOString(), id);
  }

  setProgress(id: string, progress: JobProgress): void {
    this.db.prepare('UPDATE jobs SET progress = ? WHERE id = ?').run(JSON.stringify(progress), id);
  }

  finish(id: string, status: Exclude<JobStatus, 'queued' | 'running'>, fields: { error?: string; warnings?: string[]; result?: Record<string, unknown> } = {}): void {
    this.db.prepare('UPDATE jobs SET status = ?, finished_at = ?, error = ?, warnings = ?, result = ? WHERE id = ?')
      .run(status, new Date().toISOString(), fields.error ?? null, JSON.stringify(fields.warnings ?? []),
        fields.result ? JSON.stringify(fields.result) : null, id);
  }

  requeue(id: string): void {
    this.db.prepare(`UPDATE jobs SET status = 'queued', started_at = NULL, progress = NULL WHERE id = ?`).run(id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
  }

  close(): void {
    this.db.close();
  }
}
