/** The page's only link to the server: the JSON API of docs/api.md (same origin; the token travels as a cookie). */
import type { JobProgress as Progress, JobStatus } from '../../src/server/api-types.js';
import type { MarkImages } from './marks.js';

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
  started_at: string | null;
  finished_at: string | null;
  /** What the edit did, once done. */
  result: {
    frames: number; fps: number; width: number; height: number; processing: { width: number; height: number }; blocks: number; unet_calls: number;
  } | null;
  options: Record<string, unknown>;
  video: VideoSummary;
  progress: Progress | null;
  error: string | null;
  warnings: string[];
  /** Why an earlier run was cut off and the job went back to the queue (it starts over), or null. */
  requeued: string | null;
  queue_position: number | null;
  urls: { self: string; events: string; source: string; edited_frame: string; thumbnail: string; result: string | null; masks?: string | null };
  /** Later edited frames the job was given: their time in the source and their image. */
  keyframes?: { time: number; url: string }[];
  /** The job whose result this one re-renders a section of (its options' start/duration). */
  into_job?: string | null;
  /** The region marks it was sent with (white where marked): added to the edited region, and protected. */
  marks?: { mask: string | null; keep_mask: string | null };
}

/** A later frame to edit, sent with a job: its time in the source (seconds) and the edited image. */
export interface KeyframeImage {
  time: number;
  image: Blob;
}

/** A job option, as the edit schema declares it (GET /api/options). */
export interface OptionSpec {
  name: string;
  label: string;
  help: string;
  type: 'number' | 'integer' | 'boolean' | 'choice' | 'size' | 'time' | 'text' | 'path';
  group: 'basic' | 'expert';
  default: number | string | boolean | null;
  defaultText?: string;
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  choices?: string[];
  offHelp?: string;
  preview?: number | string | boolean;
}

/** GET /api/estimate: the job's own plan (the same function the worker runs) and, once a pace is known, its time. */
export interface Estimate {
  eta_s: number | null;
  unet_steps: number;
  unet_calls: number;
  blocks: number;
  frames: number;
  size: { width: number; height: number };
  basis: string;
  /** Known before Render: a processing size far above the model's, an edit of hours. */
  warnings: string[];
}

/** POST /api/uploads/:id/region: what the edit will change, before it runs. */
export interface Region {
  width: number;
  height: number;
  coverage: number;
  looks_unedited: boolean;
  whole_frame: boolean;
  warnings: string[];
  mask_png: string;
}

export interface Health {
  status: string;
  model: { name: string; state: string; error: string | null; device: string };
  queue: { queued: number; running: number };
  limits: { max_upload_bytes: number; quota_bytes: number; used_bytes: number };
}

/** An API error body: the API's message, and its parts for the page to word with its own labels. */
interface ErrorBody {
  error?: string;
  code?: string;
  field?: string;
  parts?: (string | { field: string; value?: string | number | boolean })[];
}

/** The page's names of the options (the schema's labels), for messages in its own words. */
const labels = new Map<string, string>();

export function setOptionLabels(specs: readonly OptionSpec[]): void {
  for (const s of specs) labels.set(s.name, s.label);
}

export class ApiError extends Error {
  constructor(message: string, readonly code?: string, readonly field?: string) {
    super(message);
  }
}

/** The message in the page's words: an option named by its label ("Frame of another shape: crop"), not the API's name. */
function errorOf(body: ErrorBody, fallback: string): ApiError {
  const message = body.parts?.length
    ? body.parts.map((p) => (typeof p === 'string' ? p : `“${labels.get(p.field) ?? p.field}”${p.value === undefined ? '' : `: ${String(p.value)}`}`)).join('')
    : body.error ?? fallback;
  return new ApiError(message, body.code, body.field);
}

/** fetch, with a lost connection said in words ("Failed to fetch" tells a user nothing). */
function call(url: string, init?: RequestInit): Promise<Response> {
  return fetch(url, init).catch(() => {
    throw new ApiError('the server cannot be reached: check that it is running, then try again (nothing was lost)', 'offline');
  });
}

async function json<T>(res: Response): Promise<T> {
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw errorOf(body as ErrorBody, `${res.status} ${res.statusText}`);
  return body as T;
}

/** The region marks as the file fields the server takes. */
function appendMarks(form: FormData, marks: MarkImages | undefined): void {
  if (marks?.mask) form.append('mask', marks.mask, 'mask.png');
  if (marks?.keepMask) form.append('keep_mask', marks.keepMask, 'keep-mask.png');
}

export const api = {
  health: () => call('/api/health').then((r) => json<Health>(r)),
  options: () => call('/api/options').then((r) => json<{
    model: string; device: string; options: OptionSpec[];
    /** What a job runs unless it chooses: the sampler and its steps and strength. */
    sampler?: { sampler: 'euler' | 'animatelcm'; steps: number; strength: number };
  }>(r)),
  jobs: () => call('/api/jobs').then((r) => json<{ jobs: Job[] }>(r)).then((b) => b.jobs),
  job: (id: string) => call(`/api/jobs/${id}`).then((r) => json<Job>(r)),
  region: (upload: string, frame: Blob, marks?: MarkImages) => {
    const form = new FormData();
    form.append('edited_frame', frame, 'edited.png');
    appendMarks(form, marks);
    return call(`/api/uploads/${upload}/region`, { method: 'POST', body: form }).then((r) => json<Region>(r));
  },
  uploadInfo: (id: string) => call(`/api/uploads/${id}`).then((r) => json<Upload>(r)),
  /** The job's source as a new upload (Edit again, Retry). */
  uploadFromJob: (id: string) => call(`/api/jobs/${id}/upload`, { method: 'POST' }).then((r) => json<Upload>(r)),
  /** A frame of a finished job's result (the edited frame of a section re-rendered into it). */
  resultFrame: (job: string, time: number) => call(`/api/jobs/${job}/result/frame.png?time=${time.toFixed(3)}`).then(async (r) => {
    if (!r.ok) await json(r);
    return r.blob();
  }),
  remove: (id: string) => call(`/api/jobs/${id}`, { method: 'DELETE' }).then((r) => json<{ result: string }>(r)),
  estimate: (v: VideoSummary, options: Record<string, unknown>, keyframes: readonly number[] = []) => {
    // fps: a section in seconds (start, duration) is planned in frames, as the job will be; each keyframe starts a block.
    const q = new URLSearchParams({
      frames: String(v.frames), width: String(v.width), height: String(v.height), fps: String(v.fps), options: JSON.stringify(options),
    });
    if (keyframes.length) q.set('keyframes', keyframes.join(','));
    return call(`/api/estimate?${q}`).then((r) => json<Estimate>(r));
  },
  createJob: (upload: string, frame: Blob, options: Record<string, unknown>,
    more: { keyframes?: readonly KeyframeImage[]; intoJob?: string; marks?: MarkImages } = {}) => {
    const form = new FormData();
    form.append('upload', upload);
    form.append('options', JSON.stringify(options));
    form.append('edited_frame', frame, 'edited.png');
    (more.keyframes ?? []).forEach((k, n) => {
      form.append(`keyframe_${n}_time`, String(k.time));
      form.append(`keyframe_${n}`, k.image, `keyframe-${n}.png`);
    });
    if (more.intoJob) form.append('into_job', more.intoJob);
    appendMarks(form, more.marks);
    return call('/api/jobs', { method: 'POST', body: form }).then((r) => json<{ id: string; status: JobStatus }>(r));
  },
  /** XHR, not fetch: fetch reports no upload progress. */
  upload(file: File, onProgress: (fraction: number) => void): Promise<Upload> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/uploads');
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onerror = () => reject(new ApiError('the upload failed (connection lost)'));
      xhr.onload = () => {
        let body: ErrorBody;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = { error: `${xhr.status} ${xhr.statusText}` };
        }
        if (xhr.status === 201) resolve(body as Upload);
        else reject(errorOf(body, `upload failed (${xhr.status})`));
      };
      const form = new FormData();
      form.append('video', file, file.name);
      xhr.send(form);
    });
  },
};
