/** The page's only link to the server: the JSON API of docs/api.md (same origin; the token travels as a cookie). */
import type { JobProgress as Progress, JobStatus } from '../../src/server/api-types.js';

export type { JobStatus, Progress };

export interface VideoSummary {
  name: string;
  width: number;
  height: number;
  frames: number;
  fps: number;
  duration_s: number;
  bytes: number;
}

export interface Upload {
  id: string;
  video: VideoSummary;
  frame_url: string;
  video_url: string;
}

export interface Job {
  id: string;
  status: JobStatus;
  created_at: string;
  finished_at: string | null;
  options: Record<string, unknown>;
  video: VideoSummary;
  progress: Progress | null;
  error: string | null;
  warnings: string[];
  queue_position: number | null;
  urls: { self: string; events: string; source: string; edited_frame: string; thumbnail: string; result: string | null };
}

export interface OptionSpec {
  name: string;
  help: string;
  type: 'number' | 'integer' | 'boolean' | 'choice' | 'size';
  default?: number | string | boolean | null;
  choices?: string[];
}

export interface Health {
  status: string;
  model: { name: string; state: string; error: string | null; device: string };
  queue: { queued: number; running: number };
  limits: { max_upload_bytes: number; quota_bytes: number; used_bytes: number };
}

export class ApiError extends Error {}

async function json<T>(res: Response): Promise<T> {
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new ApiError((body as { error?: string }).error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

export const api = {
  health: () => fetch('/api/health').then((r) => json<Health>(r)),
  options: () => fetch('/api/options').then((r) => json<{ model: string; device: string; options: OptionSpec[] }>(r)),
  jobs: () => fetch('/api/jobs').then((r) => json<{ jobs: Job[] }>(r)).then((b) => b.jobs),
  job: (id: string) => fetch(`/api/jobs/${id}`).then((r) => json<Job>(r)),
  remove: (id: string) => fetch(`/api/jobs/${id}`, { method: 'DELETE' }).then((r) => json<{ result: string }>(r)),
  estimate: (v: VideoSummary, options: Record<string, unknown>) => {
    const q = new URLSearchParams({ frames: String(v.frames), width: String(v.width), height: String(v.height), options: JSON.stringify(options) });
    return fetch(`/api/estimate?${q}`).then((r) => json<{ eta_s: number | null; unet_steps: number; blocks: number; basis: string }>(r));
  },
  createJob: (upload: string, frame: Blob, options: Record<string, unknown>) => {
    const form = new FormData();
    form.append('upload', upload);
    form.append('options', JSON.stringify(options));
    form.append('edited_frame', frame, 'edited.png');
    return fetch('/api/jobs', { method: 'POST', body: form }).then((r) => json<{ id: string; status: JobStatus }>(r));
  },
  /** XHR, not fetch: fetch reports no upload progress. */
  upload(file: File, onProgress: (fraction: number) => void): Promise<Upload> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/uploads');
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onerror = () => reject(new ApiError('the upload failed (connection lost)'));
      xhr.onload = () => {
        let body: { error?: string };
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = { error: `${xhr.status} ${xhr.statusText}` };
        }
        if (xhr.status === 201) resolve(body as Upload);
        else reject(new ApiError(body.error ?? `upload failed (${xhr.status})`));
      };
      const form = new FormData();
      form.append('video', file, file.name);
      xhr.send(form);
    });
  },
};
