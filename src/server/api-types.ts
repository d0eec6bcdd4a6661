/**
 * The job fields of the API (docs/api.md) that both sides spell the same way: the server's table (store.ts) and the
 * page (web/src/api.ts, which imports these as types only, so nothing of Node reaches the bundle). A job's progress
 * is the engine's own progress event, as editVideo reports it.
 */
import type { EditProgress } from '../edit/index.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export type JobProgress = EditProgress;
