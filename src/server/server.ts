/**
 * `videoshop serve`'s HTTP server (node:http): the JSON API of docs/api.md, its Server-Sent Events, the uploaded and
 * resulting media (with Range requests, for seeking), the page from web/dist, and — with a Redis queue — the media
 * routes remote workers fetch a job's files from and send its result to.
 *
 * One request never takes the server down: every handler runs inside an error boundary that answers one JSON error
 * and logs one line; inputs are bounded before any work is planned; headers and bodies have timeouts.
 */
import { existsSync, linkSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  checkAspect, estimateEdit, fieldSpec, inspectImage, isVideoshopError, previewEditRegion, samplerDefaults, SVD_GEOMETRY,
  type EditRequest, type Keyframe, type MeasuredPace, type Pace,
} from '../edit/index.js';
import type { Dispatcher } from './dispatcher.js';
import { decodeSegment, errorBody, HttpError, InputRefused, sendFile, sendJson } from './http.js';
import {
  inputFiles, INTO_FILE, KEYFRAME_FIELDS, keyframeFile, MARK_FIELDS, MARK_FILES, MAX_KEYFRAMES, sameContent, type JobInputs,
} from './job-inputs.js';
import { jobFields, MASKS_FILE, parseJobOptions, RESULT_FILE } from './job-options.js';
import { Janitor } from './janitor.js';
import { LocalDispatcher } from './local-dispatcher.js';
import { JobQueue, type JobView } from './queue.js';
import { RedisDispatcher } from './redis-dispatcher.js';
import { authorized, checkHost, checkOrigin, COOKIE, isLoopbackHost, setSecurityHeaders } from './security.js';
import { loadStaticFiles, webDistDir, type StaticFile } from './static-files.js';
import { FINISHED, ID_PATTERN, JobStore, newId, type VideoSummary } from './store.js';
import { checkImage, checkVideo, extractFrame, extractFrameAt, maskPng, receiveMultipart, thumbnail, type Multipart } from './uploads.js';
import { receiveResult, resultStatus } from './worker-media.js';
import type { WorkerConfig } from './worker-protocol.js';

export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  token?: string;
  worker: WorkerConfig;
  /** Inference slots (worker processes, each with its own copy of the model). */
  parallel?: number;
  maxUploadBytes?: number;
  /** The data folder's size limit: the oldest finished jobs go first, then uploads are refused (507). */
  quotaBytes?: number;
  /** Finished jobs older than this are removed. */
  keepDays?: number;
  /** redis://…: jobs go on this BullMQ queue for `videoshop worker`s instead of local worker processes. */
  queueUrl?: string;
  /** The address remote workers reach this server at (Redis mode); default: the one it listens on. */
  publicUrl?: string;
  /** A request body that sends nothing for this long is dropped (default 30 s). */
  bodyIdleMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  readonly queue: JobQueue;
  /** The local inference processes' ids (tests kill one); empty in Redis mode. */
  readonly workerPids: () => (number | undefined)[];
  close(): Promise<void>;
}

export const DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024;
export const DEFAULT_QUOTA = 20 * 1024 ** 3;
/** Uploads received at once; more are told to come back (503), so slow clients cannot hold every connection. */
const MAX_CONCURRENT_UPLOADS = 8;
const UPLOAD_ID = ID_PATTERN;

/** statfs types of kernel file systems that only look like folders (/proc, /sys…): SQLite and uploads cannot live there. */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x64626720, 0x27e0eb, 0x63677270, 0x73636673, 0x74726163, 0x1cd1, 0x6e736673]);

/** The nearest existing folder at or above `dir`. */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

/** Creates the data folder's layout; one clear line when it cannot exist there (a file in the way, a read-only disk, /proc). */
function prepareDataDir(dataDir: string): void {
  let type: number | undefined;
  try {
    type = statfsSync(existingAncestor(dataDir)).type;
  } catch {
    // statfs is not everywhere; the writes below still check
  }
  if (type !== undefined && PSEUDO_FS.has(type)) {
    throw Object.assign(new Error(`cannot use ${dataDir} as the data folder (a kernel file system, not a disk): choose another with --data-dir`),
      { code: 'bad_data_dir' });
  }
  try {
    mkdirSync(path.join(dataDir, 'uploads'), { recursive: true });
    mkdirSync(path.join(dataDir, 'jobs'), { recursive: true });
    // The worker's scratch (the test edit's clip): whatever a killed run left goes now.
    rmSync(path.join(dataDir, 'tmp'), { recursive: true, force: true });
    mkdirSync(path.join(dataDir, 'tmp'));
    const probe = path.join(dataDir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way' : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EROFS' ? 'the disk is read-only' : code === 'ENOSPC' ? 'the disk is full' : (err as Error).message;
    throw Object.assign(new Error(`cannot use ${dataDir} as the data folder (${why}): choose another with --data-dir`), { code: 'bad_data_dir' });
  }
}

export async function startServer(config: ServeConfig): Promise<RunningServer> {
  if (!isLoopbackHost(config.host) && !config.token) throw new Error('internal: a non-loopback bind needs a token');
  prepareDataDir(config.dataDir);
  const store = new JobStore(path.join(config.dataDir, 'jobs.sqlite'));
  const jobDir = (id: string) => path.join(config.dataDir, 'jobs', id);
  let dispatcher: Dispatcher;
  let local: LocalDispatcher | undefined;
  try {
    if (config.queueUrl) {
      dispatcher = await RedisDispatcher.connect(config.queueUrl, {
        publicUrl: () => config.publicUrl ?? app.url,
        jobDir,
      });
    } else {
      local = new LocalDispatcher({ ...config.worker, tempDir: path.join(config.dataDir, 'tmp') }, config.parallel ?? 1, jobDir);
      dispatcher = local;
    }
  } catch (err) {
    store.close();
    throw err;
  }
  const queue = new JobQueue(config.dataDir, store, dispatcher, Boolean(config.queueUrl));
  const app = new App(config, queue);
  const server = createServer((req, res) => void app.handle(req, res));
  // Headers must arrive within 20 s (300 trickling connections are dropped, not held); a body may take long (a large
  // upload on a slow link) but not stall: the uploads' own idle and rate checks end those.
  server.headersTimeout = 20_000;
  server.requestTimeout = 0;
  server.timeout = 0;
  server.maxConnections = 1024;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    app.url = `http://${shown}:${address.port}/`;
    await queue.start();
  } catch (err) {
    app.janitor.stop();
    server.close();
    await queue.close();
    throw err;
  }
  server.on('error', (err) => console.error(`videoshop serve: ${err.message}`));
  return {
    url: app.url,
    server,
    queue,
    workerPids: () => local?.pids ?? [],
    async close() {
      app.janitor.stop();
      app.closeStreams();
      // The queue first: a running job must go back to the queue now, not finish while idle keep-alive
      // connections hold the HTTP server open.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await queue.close();
      await closed;
    },
  };
}

/** Returns a JSON body for a 200, or answers `res` itself and returns nothing. */
type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => unknown;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /** Authorized by the job's own secret (remote workers), not the server's token. */
  jobToken?: boolean;
}

class App {
  readonly janitor: Janitor;
  url = '';
  private readonly files: Map<string, StaticFile>;
  private readonly streams = new Set<ServerResponse>();
  private readonly maxUpload: number;
  private readonly routes: Route[];
  private uploadsInFlight = 0;

  constructor(private readonly config: ServeConfig, private readonly queue: JobQueue) {
    this.files = loadStaticFiles(webDistDir());
    this.maxUpload = config.maxUploadBytes ?? DEFAULT_MAX_UPLOAD;
    this.janitor = new Janitor(config.dataDir, queue, { quotaBytes: config.quotaBytes ?? DEFAULT_QUOTA, keepDays: config.keepDays ?? 7 });
    const id = '([^/]+)';
    this.routes = [
      { method: 'GET', pattern: /^\/api\/health$/, handler: () => this.health() },
      { method: 'GET', pattern: /^\/api\/options$/, handler: () => this.options() },
      { method: 'GET', pattern: /^\/api\/estimate$/, handler: (_q, _s, _p, url) => this.estimate(url) },
      { method: 'POST', pattern: /^\/api\/uploads$/, handler: (req, res) => this.createUpload(req, res) },
      { method: 'GET', pattern: new RegExp(`^/api/uploads/${id}$`), handler: (_q, _s, [u]) => this.uploadInfo(u) },
      { method: 'GET', pattern: new RegExp(`^/api/uploads/${id}/frame\\.png$`), handler: (req, res, [u], url) => this.uploadFrame(req, res, u, url) },
      { method: 'GET', pattern: new RegExp(`^/api/uploads/${id}/video$`), handler: (req, res, [u]) => this.sendUploadVideo(req, res, u) },
      { method: 'POST', pattern: new RegExp(`^/api/uploads/${id}/region$`), handler: (req, _s, [u]) => this.editRegion(req, u) },
      { method: 'POST', pattern: /^\/api\/jobs$/, handler: (req, res) => this.createJob(req, res) },
      { method: 'GET', pattern: /^\/api\/jobs$/, handler: () => this.listJobs() },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}$`), handler: (_q, _s, [j]) => this.job(j) },
      { method: 'DELETE', pattern: new RegExp(`^/api/jobs/${id}$`), handler: (_q, _s, [j]) => this.deleteJob(j) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/events$`), handler: (_q, res, [j]) => this.events(res, j) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/result$`), handler: (req, res, [j], url) => this.result(req, res, j, url) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/masks$`), handler: (req, res, [j], url) => this.result(req, res, j, url, MASKS_FILE) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/source$`), handler: (req, res, [j]) => this.jobSource(req, res, j) },
      { method: 'POST', pattern: new RegExp(`^/api/jobs/${id}/upload$`), handler: (_q, res, [j]) => this.uploadFromJob(res, j) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/edited\\.png$`), handler: (req, res, [j]) => sendFile(req, res, this.jobFile(j, 'edited.png'), 'image/png') },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/thumb\\.jpg$`), handler: (req, res, [j]) => sendFile(req, res, this.jobFile(j, 'thumb.jpg'), 'image/jpeg') },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/files/${id}$`), handler: (req, res, [j, f]) => this.inputFile(req, res, j, f) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/result/frame\\.png$`), handler: (req, res, [j], url) => this.resultFrame(req, res, j, url) },
      // Remote workers (Redis mode): the job's files, and its result sent back (resumable).
      { method: 'GET', pattern: new RegExp(`^/api/worker/jobs/${id}/source$`), jobToken: true, handler: (req, res, [j]) => this.jobSource(req, res, j) },
      { method: 'GET', pattern: new RegExp(`^/api/worker/jobs/${id}/edited\\.png$`), jobToken: true,
        handler: (req, res, [j]) => sendFile(req, res, this.jobFile(j, 'edited.png'), 'image/png') },
      { method: 'GET', pattern: new RegExp(`^/api/worker/jobs/${id}/files/${id}$`), jobToken: true, handler: (req, res, [j, f]) => this.inputFile(req, res, j, f) },
      // A worker's outputs: the result, and the per-frame masks beside it.
      {
        method: 'GET', pattern: new RegExp(`^/api/worker/jobs/${id}/(result|masks)$`), jobToken: true,
        handler: (_q, _s, [j, o]) => resultStatus(this.queue.jobDir(this.getJob(j).id), WORKER_OUTPUTS[o as WorkerOutput]),
      },
      {
        method: 'PUT', pattern: new RegExp(`^/api/worker/jobs/${id}/(result|masks)$`), jobToken: true,
        handler: (req, _s, [j, o]) => this.putResult(req, j, WORKER_OUTPUTS[o as WorkerOutput]),
      },
    ];
  }

  closeStreams(): void {
    for (const res of this.streams) res.end();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      setSecurityHeaders(res);
      const url = new URL(req.url ?? '/', 'http://localhost');
      checkHost(req, !this.config.token);
      if (!url.pathname.startsWith('/api/')) return this.page(req, res, url);
      const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (matching.length === 0) {
        this.authorize(req, false, []);
        throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`);
      }
      const route = matching.find((r) => r.method === req.method || (r.method === 'GET' && req.method === 'HEAD'));
      const params = matching[0].pattern.exec(url.pathname)!.slice(1).map((p) => decodeSegment(p) ?? '');
      this.authorize(req, Boolean(route?.jobToken), params);
      checkOrigin(req);
      if (!route) {
        res.setHeader('Allow', matching.map((r) => r.method).join(', '));
        throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
      }
      const out = await route.handler(req, res, params, url);
      if (out !== undefined && !res.headersSent) sendJson(res, 200, out);
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  /** The server's token for the API; a remote worker's routes take the job's own secret instead. */
  private authorize(req: IncomingMessage, jobToken: boolean, params: string[]): void {
    if (jobToken) {
      const id = params[0];
      const secret = ID_PATTERN.test(id) ? this.queue.store.token(id) : null;
      if (!secret || !authorized(req, secret)) throw new HttpError(401, 'missing or wrong job token');
      return;
    }
    if (!authorized(req, this.config.token)) throw new HttpError(401, 'missing or wrong token: send "Authorization: Bearer <token>" (the token printed by videoshop serve)');
  }

  /** The error boundary: one JSON answer; an unexpected error is logged as one line and ends this request only. */
  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const { status, body } = errorBody(err);
    if (status >= 500 && status !== 503 && status !== 507) {
      console.error(`videoshop serve: ${req.method} ${(req.url ?? '').slice(0, 100)}: ${(err as Error)?.message ?? String(err)}`);
    }
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    try {
      sendJson(res, status, body);
    } catch {
      res.destroy();
    }
  }

  private page(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
    const given = url.searchParams.get('token');
    if (url.pathname === '/' && given !== null && this.config.token) {
      const probe = { headers: { authorization: `Bearer ${given}` } } as IncomingMessage;
      if (!authorized(probe, this.config.token)) throw new HttpError(401, 'wrong token in the link');
      // The token moves into an HttpOnly cookie and out of the address bar.
      res.writeHead(303, { 'Set-Cookie': `${COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`, Location: '/' });
      res.end();
      return;
    }
    if (!authorized(req, this.config.token)) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Videoshop: open the link that `videoshop serve` printed (it carries the token: /?token=…).\n');
      return;
    }
    const file = this.files.get(url.pathname);
    if (!file) {
      if (this.files.size === 0 && url.pathname === '/') {
        throw new HttpError(503, 'the web page is not built: run `npm run setup` (or `npm run build:web`)');
      }
      throw new HttpError(404, `not found: ${url.pathname}`);
    }
    res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  private health() {
    const { error, ...model } = this.queue.modelState();
    return {
      status: 'ok',
      model: { name: this.config.worker.model, unet: unetLabel(this.config.worker.unet), ...model, error: error?.message ?? null },
      queue: this.queue.counts(),
      limits: {
        max_upload_bytes: this.maxUpload, quota_bytes: this.janitor.quotaBytes, used_bytes: this.janitor.usedBytes(), keep_days: this.janitor.keepDays,
      },
      auth: this.config.token ? 'token' : 'none',
    };
  }

  /** The job options: the edit schema's job fields, as the page renders its controls from them (never `unet`: the operator's). */
  private options() {
    return {
      model: this.config.worker.model, unet: unetLabel(this.config.worker.unet), device: this.config.worker.device,
      // The sampler a job runs unless it chooses (AnimateLCM for an AnimateLCM UNet), with its steps and strength.
      sampler: samplerDefaults(this.config.worker.unet ?? this.config.worker.model),
      options: jobFields().map(({ scope: _scope, key: _key, placeholder: _p, short: _s, required: _r, ...spec }) => spec),
    };
  }

  /** The newest finished job's pace, else the worker's test edit. */
  private latestPace(): { pace: Pace; basis: string } | null {
    const done = this.queue.store.list().find((j) => j.status === 'done' && (j.result as { timings_ms?: unknown } | null)?.timings_ms);
    if (done) {
      // Results written before they carried steps and strength: the job's options, else the schema's defaults.
      const r = done.result as unknown as Pace & { steps?: number; strength?: number };
      const o = done.options as { steps?: number; strength?: number };
      const steps = r.steps ?? o.steps ?? (fieldSpec('steps')!.default as number);
      const strength = r.strength ?? o.strength ?? (fieldSpec('strength')!.default as number);
      return { pace: { ...r, steps, strength }, basis: `pace of job ${done.id}` };
    }
    const pace: MeasuredPace | null = this.queue.pace();
    if (!pace) return null;
    return { pace, basis: `a ${pace.processing.width}×${pace.processing.height} test edit at startup; refined after the first job` };
  }

  private estimate(url: URL) {
    const q = url.searchParams;
    const number = (name: string, required = true): number | undefined => {
      const text = q.get(name);
      if (text === null || text === '') {
        if (required) throw new HttpError(400, 'estimate needs frames, width and height (positive whole numbers)');
        return undefined;
      }
      const n = Number(text);
      if (!Number.isFinite(n) || n <= 0) throw new HttpError(400, `${name} must be a positive number, got ${JSON.stringify(text.slice(0, 40))}`);
      return n;
    };
    const video = { frames: number('frames')!, width: number('width')!, height: number('height')!, fps: number('fps', false) };
    let options: unknown;
    try {
      options = JSON.parse(q.get('options') ?? '{}');
    } catch {
      throw new HttpError(400, 'options must be JSON');
    }
    const { fields } = parseJobOptions(options, this.config.worker.model, this.config.worker.unet);
    // keyframes=1.5,3: the keyframes' times (seconds in the source), which start blocks of their own.
    const times = (q.get('keyframes') ?? '').split(',').filter((t) => t.trim() !== '').map(Number);
    if (times.length > MAX_KEYFRAMES || times.some((t) => !Number.isFinite(t) || t < 0)) {
      throw new HttpError(400, `keyframes must be up to ${MAX_KEYFRAMES} times in seconds, separated by commas (1.5,3), got ${JSON.stringify((q.get('keyframes') ?? '').slice(0, 60))}`);
    }
    const keyframe: Keyframe[] = times.map((time, n) => ({ time, image: `keyframe_${n}` }));
    const geometry = this.queue.geometry() ?? this.queue.pace()?.model ?? SVD_GEOMETRY;
    const e = estimateEdit(video, { ...fields, ...(keyframe.length ? { keyframe } : {}) }, this.latestPace(), geometry);
    return {
      eta_s: e.seconds, unet_steps: e.unetSteps, unet_calls: e.plan.unetCalls, blocks: e.plan.blocks, frames: e.plan.frames,
      size: e.plan.size, basis: e.basis, warnings: e.warnings,
    };
  }

  // --- uploads: a video sent once, its first frame extracted for the editor -----------------------------------

  private uploadDir(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new HttpError(404, 'no such upload');
    const dir = path.join(this.config.dataDir, 'uploads', id);
    if (!existsSync(path.join(dir, 'info.json'))) throw new HttpError(404, 'no such upload (uploads are kept for a day)');
    return dir;
  }

  private uploadFile(id: string, name: string): string {
    return path.join(this.uploadDir(id), name);
  }

  private uploadInfo(id: string): { id: string; video: Omit<VideoSummary, 'file'>; frame_url: string; video_url: string } {
    const { file: _file, ...video } = JSON.parse(readFileSync(this.uploadFile(id, 'info.json'), 'utf8')) as VideoSummary;
    return { id, video, frame_url: `/api/uploads/${id}/frame.png`, video_url: `/api/uploads/${id}/video` };
  }

  /**
   * The frame to edit: the first, or with `?time=T` (seconds) the first frame at or after T — the frame an edit with
   * `start: T` is conditioned on (exportFrame, as the edit decodes it). Each time's PNG is kept in the upload.
   */
  private async uploadFrame(req: IncomingMessage, res: ServerResponse, id: string, url: URL): Promise<void> {
    const text = url.searchParams.get('time');
    if (text === null || text === '' || Number(text) === 0) return sendFile(req, res, this.uploadFile(id, 'frame.png'), 'image/png');
    const time = Number(text);
    if (!Number.isFinite(time) || time < 0) throw new HttpError(400, `time must be seconds from the start (a number ≥ 0), got ${JSON.stringify(text.slice(0, 40))}`);
    const info = JSON.parse(readFileSync(this.uploadFile(id, 'info.json'), 'utf8')) as VideoSummary;
    if (time >= info.duration_s) throw new HttpError(400, `time ${time} s is past the end of the video (${info.duration_s.toFixed(2)} s)`);
    const file = this.uploadFile(id, `frame-${Math.round(time * 1000)}.png`);
    if (!existsSync(file)) await extractFrameAt(this.uploadFile(id, info.file), file, time);
    await sendFile(req, res, file, 'image/png');
  }

  private async sendUploadVideo(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const info = JSON.parse(readFileSync(this.uploadFile(id, 'info.json'), 'utf8')) as VideoSummary;
    await sendFile(req, res, this.uploadFile(id, info.file), videoType(info.file));
  }

  /** Receives a multipart body into `dir` (a `.partial` folder) under the quota, one of MAX_CONCURRENT_UPLOADS. */
  private async receive(req: IncomingMessage, dir: string, allowed: Record<string, string>) {
    if (this.uploadsInFlight >= MAX_CONCURRENT_UPLOADS) {
      throw new HttpError(503, `the server is receiving ${MAX_CONCURRENT_UPLOADS} uploads already: try again in a moment`, 'busy');
    }
    // The declared length (already checked against the upload limit by the parser's caller) is reserved up front.
    const declared = Number(req.headers['content-length'] ?? 0);
    const account = this.janitor.open(Number.isSafeInteger(declared) && declared > 0 && declared <= this.maxUpload + 64 * 1024 ? declared : 0);
    this.uploadsInFlight++;
    try {
      mkdirSync(dir, { recursive: true });
      return { form: await receiveMultipart(req, dir, allowed, { maxBytes: this.maxUpload, account, idleMs: this.config.bodyIdleMs }), account };
    } catch (err) {
      account.release();
      throw err;
    } finally {
      this.uploadsInFlight--;
    }
  }

  private async createUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = newId();
    const dir = path.join(this.config.dataDir, 'uploads', `.${id}.partial`);
    let release = () => {};
    try {
      const { form, account } = await this.receive(req, dir, { video: 'video' });
      release = account.release;
      const file = form.files.video;
      if (!file) throw new HttpError(400, 'the multipart body needs a "video" file');
      const { summary } = await checkVideo(file);
      await extractFrame(file.path, path.join(dir, 'frame.png'));
      writeFileSync(path.join(dir, 'info.json'), JSON.stringify(summary));
      renameSync(dir, path.join(this.config.dataDir, 'uploads', id));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    } finally {
      release();
    }
    this.janitor.makeRoom();
    sendJson(res, 201, this.uploadInfo(id));
  }

  /**
   * The region an edited frame changes on an upload's first frame, before Render: the mask (PNG, base64) for the page
   * to overlay, its share of the frame, and the warnings knowable now (unedited; so large the whole frame re-renders).
   */
  private async editRegion(req: IncomingMessage, uploadId: string) {
    const frame = this.uploadFile(uploadId, 'frame.png');
    const dir = path.join(this.config.dataDir, 'tmp', `region-${newId()}`);
    let release = () => {};
    try {
      const { form, account } = await this.receive(req, dir, { edited_frame: 'edited', ...MARK_FIELDS });
      release = account.release;
      const file = form.files.edited_frame;
      if (!file) throw new HttpError(400, 'the multipart body needs an "edited_frame" image file');
      let size: { width: number; height: number };
      try {
        size = await inspectImage(file.path, file.filename);
      } catch (err) {
        throw isVideoshopError(err) ? new HttpError(400, `edited_frame rejected: ${err.message}`) : err;
      }
      const { video } = this.uploadInfo(uploadId);
      const marks = await this.marks(form, dir, [video, size]);
      const r = await previewEditRegion(frame, file.path, marks);
      const warnings: string[] = [];
      if (r.unedited) warnings.push('the edited frame looks the same as the video\'s first frame: the result would be the source as it is');
      else if (r.wholeFrame) {
        warnings.push(`the edit changes ${Math.round(r.coverage * 100)}% of the frame, so the whole frame will be re-rendered (nothing is kept exactly)`);
      }
      return {
        width: r.width, height: r.height, coverage: r.coverage, looks_unedited: r.unedited, whole_frame: r.wholeFrame, warnings,
        mask_png: (await maskPng(r.mask, r.width, r.height)).toString('base64'),
      };
    } finally {
      release();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * A job's source video as a new upload ("Edit again", "Retry" in the page): the same file (a hard link where the
   * disk allows), its first frame, its summary — as if the user had uploaded it again.
   */
  private async uploadFromJob(res: ServerResponse, jobId: string): Promise<void> {
    const job = this.getJob(jobId);
    const id = newId();
    const dir = path.join(this.config.dataDir, 'uploads', `.${id}.partial`);
    try {
      mkdirSync(dir, { recursive: true });
      const video: VideoSummary = { ...job.video, file: `video${path.extname(job.video.file)}` };
      linkOrCopy(path.join(this.queue.jobDir(job.id), job.video.file), path.join(dir, video.file));
      await extractFrame(path.join(dir, video.file), path.join(dir, 'frame.png'));
      writeFileSync(path.join(dir, 'info.json'), JSON.stringify(video));
      renameSync(dir, path.join(this.config.dataDir, 'uploads', id));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.janitor.makeRoom();
    sendJson(res, 201, this.uploadInfo(id));
  }

  // --- jobs ------------------------------------------------------------------------------------------------------

  private async createJob(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = newId();
    const dir = this.queue.jobDir(`.${id}.partial`);
    let job: JobView;
    let release = () => {};
    try {
      const { form, account } = await this.receive(req, dir, { video: 'source', edited_frame: 'edited-upload', ...KEYFRAME_FIELDS, ...MARK_FIELDS });
      release = account.release;
      let video: VideoSummary;
      if (form.files.video) {
        video = (await checkVideo(form.files.video)).summary;
      } else if (form.fields.upload !== undefined) {
        const upload = JSON.parse(readFileSync(this.uploadFile(form.fields.upload, 'info.json'), 'utf8')) as VideoSummary;
        const from = this.uploadFile(form.fields.upload, upload.file);
        video = { ...upload, file: `source${path.extname(upload.file)}` };
        linkOrCopy(from, path.join(dir, video.file));
      } else {
        throw new HttpError(400, 'the multipart body needs a "video" file (or the "upload" id of an uploaded video)');
      }
      const frame = form.files.edited_frame;
      if (!frame) throw new HttpError(400, 'the multipart body needs an "edited_frame" image file');
      let options: unknown = {};
      if (form.fields.options !== undefined && form.fields.options.trim() !== '') {
        try {
          options = JSON.parse(form.fields.options);
        } catch {
          throw new HttpError(400, 'options is not valid JSON');
        }
      }
      const parsed = parseJobOptions(options, this.config.worker.model, this.config.worker.unet);
      const size = await checkImage(frame, path.join(dir, 'edited.png'));
      // The edit's own aspect rule, and its plan (size, section, blocks) checked against the loaded model, before queueing.
      checkAspect(size, video, parsed.fields.fit);
      const { inputs, keyframe } = await this.jobInputs(form, dir, video, parsed.fields);
      const marks = await this.marks(form, dir, [video, size]);
      if (marks.mask) inputs.mask = MARK_FILES.mask;
      if (marks.keepMask) inputs.keepMask = MARK_FILES.keep_mask;
      const geometry = this.queue.geometry();
      if (geometry) estimateEdit(video, { ...parsed.fields, ...(keyframe.length ? { keyframe } : {}) }, null, geometry);
      await thumbnail(path.join(dir, 'edited.png'), path.join(dir, 'thumb.jpg'));
      renameSync(dir, this.queue.jobDir(id));
      job = this.queue.add({ id, options: parsed.given, video, inputs });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    } finally {
      release();
    }
    this.janitor.makeRoom();
    res.setHeader('Location', `/api/jobs/${id}`);
    sendJson(res, 201, { id: job.id, status: job.status, queue_position: job.queue_position });
  }

  /**
   * The regions the user marked on the first frame (`mask`: edited, `keep_mask`: unedited; white where marked), checked
   * as images of one of `sizes` (the video's, the edited frame's) and kept in `dir` as PNGs: their paths, as the edit
   * takes them.
   */
  private async marks(form: Multipart, dir: string, sizes: { width: number; height: number }[]): Promise<{ mask?: string; keepMask?: string }> {
    const out: { mask?: string; keepMask?: string } = {};
    for (const field of ['mask', 'keep_mask'] as const) {
      const file = form.files[field];
      if (!file) continue;
      const to = path.join(dir, MARK_FILES[field]);
      const size = await checkImage(file, to, field);
      if (!sizes.some((s) => s.width === size.width && s.height === size.height)) {
        const [a, b] = sizes;
        throw new HttpError(400, `${field} is ${size.width}×${size.height}: it must have the video's size (${a.width}×${a.height})${
          b && (b.width !== a.width || b.height !== a.height) ? ` or the edited frame's (${b.width}×${b.height})` : ''}`);
      }
      out[field === 'mask' ? 'mask' : 'keepMask'] = to;
    }
    return out;
  }

  /**
   * A job's keyframes (`keyframe_<n>` images, each with `keyframe_<n>_time`: seconds in the source) and the finished
   * job of the same video whose result it re-renders a section of (`into_job`), checked as the edited frame is and
   * stored in its folder `dir`. The keyframes come back as the plan reads them too, named by their fields (a refusal
   * names no server path).
   */
  private async jobInputs(
    form: Multipart, dir: string, video: VideoSummary, fields: Partial<EditRequest>,
  ): Promise<{ inputs: JobInputs; keyframe: Keyframe[] }> {
    const inputs: JobInputs = {};
    const keyframe: Keyframe[] = [];
    for (const key of Object.keys(form.fields)) {
      const n = /^keyframe_(\d+)_time$/.exec(key)?.[1];
      if (n !== undefined && !(Number(n) < MAX_KEYFRAMES)) throw new HttpError(400, `${key}: a job takes at most ${MAX_KEYFRAMES} keyframes (keyframe_0 … keyframe_${MAX_KEYFRAMES - 1})`);
    }
    for (let n = 0; n < MAX_KEYFRAMES; n++) {
      const name = `keyframe_${n}`;
      const file = form.files[name];
      const text = form.fields[`${name}_time`];
      if (!file && text === undefined) continue;
      if (!file) throw new HttpError(400, `${name}_time is given without its image: send the image as the file field "${name}"`);
      const time = text === undefined || text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(time) || time < 0) {
        throw new HttpError(400, `${name} needs its time in the source: a field "${name}_time" in seconds (a number ≥ 0), got ${JSON.stringify((text ?? '').slice(0, 40))}`);
      }
      const size = await checkImage(file, path.join(dir, keyframeFile(n)), name);
      try {
        checkAspect(size, video, fields.fit);
      } catch (err) {
        throw isVideoshopError(err) ? new InputRefused(`${name} rejected: `, err) : err;
      }
      (inputs.keyframes ??= []).push({ time, file: keyframeFile(n) });
      keyframe.push({ time, image: name });
    }
    const into = form.fields.into_job?.trim();
    if (into) {
      const earlier = ID_PATTERN.test(into) ? this.queue.get(into) : undefined;
      if (!earlier) throw new HttpError(400, `into_job: no such job ${JSON.stringify(into.slice(0, 40))}`);
      if (earlier.status !== 'done') throw new HttpError(400, `into_job: job ${into} is ${earlier.status}: a section goes into a finished job's result`);
      if (fields.start === undefined) throw new HttpError(400, 'into_job re-renders a section: give its start (and duration) in options');
      const earlierDir = this.queue.jobDir(earlier.id);
      if (!(await sameContent(path.join(dir, video.file), path.join(earlierDir, earlier.video.file)))) {
        throw new HttpError(400, `into_job: job ${into} edited another video (${earlier.video.name}): a section goes into a result of this same video`);
      }
      const frames = (earlier.result as { frames?: unknown } | null)?.frames;
      if (typeof frames === 'number' && frames !== video.frames) {
        throw new HttpError(400, `into_job: job ${into} rendered ${frames} of the video's ${video.frames} frames (a section or a preview): choose a job that rendered the whole video`);
      }
      linkOrCopy(path.join(earlierDir, RESULT_FILE), path.join(dir, INTO_FILE));
      inputs.into = { job: earlier.id, file: INTO_FILE };
    }
    return { inputs, keyframe };
  }

  /**
   * A frame of a finished job's result, `?time=T` seconds from its start (the first frame at or after T, as the
   * upload's frame.png): the edited frame of a section re-rendered into that result (`into_job`). Kept in the job.
   */
  private async resultFrame(req: IncomingMessage, res: ServerResponse, id: string, url: URL): Promise<void> {
    const job = this.getJob(id);
    if (job.status !== 'done') throw new HttpError(409, `job ${id} is ${job.status}: its result exists once it is done`);
    const text = url.searchParams.get('time') ?? '0';
    const time = Number(text);
    if (text.trim() === '' || !Number.isFinite(time) || time < 0) throw new HttpError(400, `time must be seconds from the start (a number ≥ 0), got ${JSON.stringify(text.slice(0, 40))}`);
    if (time >= job.video.duration_s) throw new HttpError(400, `time ${time} s is past the end of the video (${job.video.duration_s.toFixed(2)} s)`);
    const file = path.join(this.queue.jobDir(id), `result-frame-${Math.round(time * 1000)}.png`);
    if (!existsSync(file)) await extractFrameAt(path.join(this.queue.jobDir(id), RESULT_FILE), file, time);
    await sendFile(req, res, file, 'image/png');
  }

  /** One of a job's input files (a keyframe's image, the earlier result), by the name the job lists it under. */
  private async inputFile(req: IncomingMessage, res: ServerResponse, id: string, name: string): Promise<void> {
    const job = this.getJob(id);
    if (!inputFiles(job.inputs).includes(name)) throw new HttpError(404, `job ${id} has no file ${JSON.stringify(name.slice(0, 40))}`);
    await sendFile(req, res, path.join(this.queue.jobDir(id), name), name.endsWith('.png') ? 'image/png' : 'video/mp4');
  }

  private listJobs() {
    return { jobs: this.queue.list().map((j) => publicJob(j, this.hasMasks(j))) };
  }

  private getJob(id: string): JobView {
    const job = ID_PATTERN.test(id) ? this.queue.get(id) : undefined;
    if (!job) throw new HttpError(404, `no such job: ${id.slice(0, 40)}`);
    return job;
  }

  private job(id: string) {
    const job = this.getJob(id);
    return publicJob(job, this.hasMasks(job));
  }

  private deleteJob(id: string) {
    this.getJob(id);
    const what = this.queue.cancelOrDelete(id);
    return { id, result: what, job: what === 'deleted' ? null : this.job(id) };
  }

  private jobFile(id: string, name: string): string {
    this.getJob(id);
    return path.join(this.queue.jobDir(id), name);
  }

  private async jobSource(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const job = this.getJob(id);
    await sendFile(req, res, path.join(this.queue.jobDir(id), job.video.file), videoType(job.video.file));
  }

  /** The result (or, as `file`, the per-frame masks beside it), to play or (`?download`) to save under the video's name. */
  private async result(req: IncomingMessage, res: ServerResponse, id: string, url: URL, file = RESULT_FILE): Promise<void> {
    const job = this.getJob(id);
    if (job.status !== 'done') throw new HttpError(409, `job ${id} is ${job.status}: its result exists once it is done`);
    if (file === MASKS_FILE && !this.hasMasks(job)) {
      throw new HttpError(404, `job ${id} has no mask video: it re-rendered the whole frame (keep_unedited off) or a section into an earlier result`);
    }
    if (url.searchParams.has('download')) {
      const base = job.video.name.replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_').slice(0, 80) || 'video';
      res.setHeader('Content-Disposition', `attachment; filename="${base}-videoshop${file === MASKS_FILE ? '-masks' : ''}.mp4"`);
    }
    await sendFile(req, res, path.join(this.queue.jobDir(id), file), 'video/mp4');
  }

  /** Whether a finished job wrote its per-frame masks (a job that keeps unedited pixels and renders its own result). */
  private hasMasks(job: JobView): boolean {
    return job.status === 'done' && existsSync(path.join(this.queue.jobDir(job.id), MASKS_FILE));
  }

  /** A remote worker's result, streamed into the job's folder (resumable with Content-Range), size-checked. */
  private async putResult(req: IncomingMessage, id: string, file = RESULT_FILE) {
    const job = this.getJob(id);
    if (job.status !== 'running' && job.status !== 'queued') throw new HttpError(409, `job ${id} is ${job.status}: it takes no result`);
    const account = this.janitor.open();
    try {
      const maxBytes = Math.max(this.maxUpload, 4 * job.video.bytes);
      return await receiveResult(req, this.queue.jobDir(id), { maxBytes, account, idleMs: this.config.bodyIdleMs }, file);
    } finally {
      account.release();
    }
  }

  private events(res: ServerResponse, id: string): void {
    let job = this.getJob(id);
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.streams.add(res);
    let last = 0;
    let timer: NodeJS.Timeout | null = null;
    const send = () => {
      timer = null;
      last = performance.now();
      if (res.destroyed) return;
      res.write(`event: job\ndata: ${JSON.stringify(publicJob(job, this.hasMasks(job)))}\n\n`);
      if (FINISHED.includes(job.status)) {
        res.write('event: end\ndata: {}\n\n');
        res.end();
      }
    };
    const stageOf = (j: JobView) => `${j.status}/${j.progress?.stage ?? ''}/${j.progress?.block ?? ''}`;
    const onUpdate = (update: JobView) => {
      if (update.id !== id) return;
      // A new stage or block, or the end, goes out at once (a fast machine must not skip a stage), after the pending
      // state it replaces; steps within a stage at most ten times a second.
      const newStage = stageOf(update) !== stageOf(job);
      if (newStage && timer) {
        clearTimeout(timer);
        send();
      }
      job = update;
      if (newStage || FINISHED.includes(job.status) || performance.now() - last > 100) {
        if (timer) clearTimeout(timer);
        send();
      } else {
        timer ??= setTimeout(send, 100);
      }
    };
    const onDeleted = (deleted: string) => {
      if (deleted === id) res.end();
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    this.queue.on('update', onUpdate);
    this.queue.on('deleted', onDeleted);
    res.on('error', () => res.destroy());
    res.on('close', () => {
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      this.queue.off('update', onUpdate);
      this.queue.off('deleted', onDeleted);
      this.streams.delete(res);
    });
    send();
  }
}

/** What a remote worker sends back, by the route's last segment. */
const WORKER_OUTPUTS = { result: RESULT_FILE, masks: MASKS_FILE } as const;
type WorkerOutput = keyof typeof WORKER_OUTPUTS;

/** A job as the API shows it (no server paths); `masks`: it wrote its per-frame masks. */
function publicJob(job: JobView, masks = false) {
  const { video, inputs, ...rest } = job;
  const { file: _file, ...shown } = video;
  return {
    ...rest,
    video: shown,
    keyframes: (inputs.keyframes ?? []).map((k) => ({ time: k.time, url: `/api/jobs/${job.id}/files/${k.file}` })),
    into_job: inputs.into?.job ?? null,
    marks: {
      mask: inputs.mask ? `/api/jobs/${job.id}/files/${inputs.mask}` : null,
      keep_mask: inputs.keepMask ? `/api/jobs/${job.id}/files/${inputs.keepMask}` : null,
    },
    urls: {
      self: `/api/jobs/${job.id}`, events: `/api/jobs/${job.id}/events`, source: `/api/jobs/${job.id}/source`,
      edited_frame: `/api/jobs/${job.id}/edited.png`, thumbnail: `/api/jobs/${job.id}/thumb.jpg`,
      result: job.status === 'done' ? `/api/jobs/${job.id}/result` : null,
      masks: masks ? `/api/jobs/${job.id}/masks` : null,
    },
  };
}

/** The Content-Type of an uploaded video, by the extension it was stored with (players need it). */
function videoType(file: string): string {
  const types: Record<string, string> = { '.webm': 'video/webm', '.mov': 'video/quicktime', '.mkv': 'video/x-matroska', '.ogv': 'video/ogg', '.gif': 'image/gif', '.avi': 'video/x-msvideo' };
  return types[path.extname(file).toLowerCase()] ?? 'video/mp4';
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** The jobs' UNet file as users see it: a Hub org/name/file as given, a local file by its name alone (no server paths). */
function unetLabel(unet: string | undefined): string | null {
  if (!unet) return null;
  return existsSync(unet) ? path.basename(unet) : unet;
}
