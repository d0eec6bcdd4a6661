/**
 * The job fields of the API (docs/api.md) that both sides spell the same way: the server's table (store.ts) and the
 * page (web/src/api.ts, which imports these as types only, so nothing of Node reaches the bundle).
 */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  stage: string;
  step: number;
  total: number;
  block: number | null;
  blocks: number | null;
  /** Overall fraction of the job done, 0…1. */
  fraction: number;
  /** Seconds left, estimated from the pace so far; null until there is a pace. */
  eta_s: number | null;
}
