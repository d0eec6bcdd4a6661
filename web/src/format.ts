/** Numbers and progress as the page shows them. */
import type { Job, Progress } from './api.js';

export function mb(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(bytes < 10 * 1024 ** 2 ? 1 : 0)} MB`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "denoise · step 3/13 · block 1/2 · 45% · ETA 12 s" */
export function progressText(p: Progress | null): string {
  if (!p) return 'starting…';
  const parts = [p.stage, `step ${p.step}/${p.total}`];
  if (p.blocks && p.blocks > 1) parts.push(`block ${p.block}/${p.blocks}`);
  parts.push(`${Math.round(p.fraction * 100)}%`);
  if (p.etaSeconds !== null) parts.push(`ETA ${duration(p.etaSeconds)}`);
  return parts.join(' · ');
}

export function statusText(job: Job): string {
  switch (job.status) {
    case 'queued': return job.queue_position ? `queued (#${job.queue_position})` : 'queued';
    case 'running': return progressText(job.progress);
    case 'done': return `done ${new Date(job.finished_at ?? job.created_at).toLocaleString()}`;
    case 'failed': return `failed: ${job.error ?? 'unknown error'}`;
    case 'cancelled': return 'cancelled';
  }
}
