/**
 * `videoshop serve`'s HTTP server (node:http): the JSON API of docs/api.md, its Server-Sent Events, the uploaded and
 * resulting media (with Range requests, for seeking), and the page from web/dist. Every error is JSON.
 */
import { createReadStream, existsSync, linkSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEFAULT_OPTIONS } from '../pipeline/options.js';
import { estimateSeconds } from './estimate.js';
import { HttpError } from './http-error.js';
import { optionSpecs, parseJobOptions } from './job-options.js';
import { JobQueue, type JobView } from './queue.js';
import { RedisDispatcher } from './redis-queue.js';
import { authorized, checkHost, checkOrigin, COOKIE, isLoopbackHost, setSecurityHeaders } from './security.js';
import { loadStaticFiles, webDistDir, type StaticFile } from './static-files.js';
import { FINISHED, ID_PATTERN, newId, type VideoSummary } from './store.js';
import { checkImage, checkVideo, extractFirstFrame, receiveMultipart, thumbnail } from './uploads.js';
import { dataUsage, Janitor } from './janitor.js';
import type { WorkerConfig } from './worker-protocol.js';

export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  token?: string;
  worker: WorkerConfig;
  /** Inference slots (worker threads, each with its own copy of the model). */
  parallel?: number;
  maxUploadBytes?: number;
  /** The data folder's size limit: the oldest finished jobs go first, then uploads are refused (507). */
  quotaBytes?: number;
  /** Finished jobs older than this are removed. */
  keepDays?: number;
  /** redis://…: jobs go on this BullMQ queue for `videoshop worker`s instead of local worker processes. */
  queueUrl?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  readonly queue: JobQueue;
  close(): Promise<void>;
}

export const DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024;
export const DEFAULT_QUOTA = 20 * 1024 ** 3;
const UPLOAD_ID = ID_PATTERN;

export async function startServer(config: ServeConfig): Promise<RunningServer> {
  if (!isLoopbackHost(config.host) && !config.token) throw new Error('internal: a non-loopback bind needs a token');
  mkdirSync(path.join(config.dataDir, 'uploads'), { recursive: true });
  let remote: RedisDispatcher | undefined;
  if (config.queueUrl) {
    remote = await RedisDispatcher.connect(config.queueUrl);
  }
  const queue = new JobQueue(config.dataDir, config.worker, config.parallel ?? 1, remote);
  await queue.reconcile();
  const app = new App(config, queue);
  const server = createServer((req, res) => void app.handle(req, res));
  server.requestTimeout = 0; // long uploads; SSE
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    app.janitor.stop();
    await queue.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    server,
    queue,
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

class App {
  readonly janitor: Janitor;
  private readonly files: Map<string, StaticFile>;
  private readonly streams = new Set<ServerResponse>();
  private readonly maxUpload: number;
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[];

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
      { method: 'GET', pattern: new RegExp(`^/api/uploads/${id}/frame\\.png$`), handler: (req, res, [u]) => this.sendFile(req, res, this.uploadFile(u, 'frame.png'), 'image/png') },
      { method: 'GET', pattern: new RegExp(`^/api/uploads/${id}/video$`), handler: (req, res, [u]) => this.sendUploadVideo(req, res, u) },
      { method: 'POST', pattern: /^\/api\/jobs$/, handler: (req, res) => this.createJob(req, res) },
      { method: 'GET', pattern: /^\/api\/jobs$/, handler: () => this.listJobs() },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}$`), handler: (_q, _s, [j]) => this.job(j) },
      { method: 'DELETE', pattern: new RegExp(`^/api/jobs/${id}$`), handler: (_q, _s, [j]) => this.deleteJob(j) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/events$`), handler: (_q, res, [j]) => this.events(res, j) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/result$`), handler: (req, res, [j], url) => this.result(req, res, j, url) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/source$`), handler: (req, res, [j]) => this.jobSource(req, res, j) },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/edited\\.png$`), handler: (req, res, [j]) => this.sendFile(req, res, this.jobFile(j, 'edited.png'), 'image/png') },
      { method: 'GET', pattern: new RegExp(`^/api/jobs/${id}/thumb\\.jpg$`), handler: (req, res, [j]) => this.sendFile(req, res, this.jobFile(j, 'thumb.jpg'), 'image/jpeg') },
    ];
  }

  closeStreams(): void {
    for (const res of this.streams) res.end();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      checkHost(req, !this.config.token);
      if (!url.pathname.startsWith('/api/')) return this.page(req, res, url);
      if (!authorized(req, this.config.token)) throw new HttpError(401, 'missing or wrong token: send "Authorization: Bearer <token>" (the token printed by videoshop serve)');
      checkOrigin(req);
      const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (matching.length === 0) throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`);
      const route = matching.find((r) => r.method === req.method || (r.method === 'GET' && req.method === 'HEAD'));
      if (!route) {
        res.setHeader('Allow', matching.map((r) => r.method).join(', '));
        throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
      }
      const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
      const out = await route.handler(req, res, params, url);
      if (out !== undefined && !res.headersSent) sendJson(res, 200, out);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private fail(res: ServerResponse, err: unknown): void {
    const status = err instanceof HttpError ? err.status : 500;
    const message = err instanceof HttpError ? err.message : `internal error: ${(err as Error)?.message ?? String(err)}`;
    if (status === 500) console.error(err);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, status, { error: message });
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
    const jobs = this.queue.store.list();
    return {
      status: 'ok',
      model: { name: this.config.worker.model, ...this.queue.modelState() },
      queue: { queued: jobs.filter((j) => j.status === 'queued').length, running: jobs.filter((j) => j.status === 'running').length },
      limits: { max_upload_bytes: this.maxUpload, quota_bytes: this.janitor.quotaBytes, used_bytes: dataUsage(this.config.dataDir), keep_days: this.janitor.keepDays },
      auth: this.config.token ? 'token' : 'none',
    };
  }

  private options() {
    return { model: this.config.worker.model, device: this.config.worker.device, options: optionSpecs() };
  }

  private estimate(url: URL) {
    const frames = Number(url.searchParams.get('frames'));
    const width = Number(url.searchParams.get('width'));
    const height = Number(url.searchParams.get('height'));
    if (!(frames > 0 && width > 0 && height > 0)) throw new HttpError(400, 'estimate needs frames, width and height (positive numbers)');
    let options: unknown;
    try {
      options = JSON.parse(url.searchParams.get('options') ?? '{}');
    } catch {
      throw new HttpError(400, 'options must be JSON');
    }
    const parsed = parseJobOptions(options, { video: 'v', editedFrame: 'e', output: 'o.mp4', model: this.config.worker.model });
    const done = this.queue.store.list().filter((j) => j.status === 'done' && j.result);
    const given = Object.fromEntries(Object.entries(parsed.edit.method ?? {}).filter(([, v]) => v !== undefined));
    return estimateSeconds({ frames, width, height, method: { ...DEFAULT_OPTIONS, ...given }, size: parsed.edit.size, blockFrames: parsed.edit.blockFrames }, done, this.queue.pace());
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

  private uploadInfo(id: string): { id: string; video: VideoSummary; frame_url: string; video_url: string } {
    const video = JSON.parse(readFileSync(this.uploadFile(id, 'info.json'), 'utf8')) as VideoSummary;
    return { id, video, frame_url: `/api/uploads/${id}/frame.png`, video_url: `/api/uploads/${id}/video` };
  }

  private async sendUploadVideo(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const info = this.uploadInfo(id);
    await this.sendFile(req, res, this.uploadFile(id, info.video.file), videoType(info.video.file));
  }

  private async createUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.janitor.makeRoom(Number(req.headers['content-length'] ?? 0));
    const id = newId();
    const dir = path.join(this.config.dataDir, 'uploads', `.${id}.partial`);
    mkdirSync(dir, { recursive: true });
    try {
      const form = await receiveMultipart(req, dir, { video: 'video' }, this.maxUpload);
      const file = form.files.video;
      if (!file) throw new HttpError(400, 'the multipart body needs a "video" file');
      const { summary } = await checkVideo(file);
      await extractFirstFrame(file.path, path.join(dir, 'frame.png'));
      writeFileSync(path.join(dir, 'info.json'), JSON.stringify(summary));
      renameSync(dir, path.join(this.config.dataDir, 'uploads', id));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    sendJson(res, 201, this.uploadInfo(id));
  }

  // --- jobs ------------------------------------------------------------------------------------------------------

  private async createJob(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.janitor.makeRoom(Number(req.headers['content-length'] ?? 0));
    const id = newId();
    const dir = this.queue.jobDir(`.${id}.partial`);
    mkdirSync(dir, { recursive: true });
    let job: JobView;
    try {
      const form = await receiveMultipart(req, dir, { video: 'source', edited_frame: 'edited-upload' }, this.maxUpload);
      let video: VideoSummary;
      if (form.files.video) {
        video = (await checkVideo(form.files.video)).summary;
      } else if (form.fields.upload !== undefined) {
        const upload = this.uploadInfo(form.fields.upload);
        const from = this.uploadFile(form.fields.upload, upload.video.file);
        video = { ...upload.video, file: `source${path.extname(upload.video.file)}` };
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
      const parsed = parseJobOptions(options, { video: 'v', editedFrame: 'e', output: 'o.mp4', model: this.config.worker.model });
      const size = await checkImage(frame, path.join(dir, 'edited.png'));
      const mismatch = Math.abs(Math.log((size.width / size.height) / (video.width / video.height)));
      if (mismatch > 0.01 && !parsed.edit.fit) {
        throw new HttpError(400, `edited_frame is ${size.width}×${size.height} but the video is ${video.width}×${video.height}: ` +
          'export the frame at the video\'s size, or set the option fit to "crop" or "pad"');
      }
      await thumbnail(path.join(dir, 'edited.png'), path.join(dir, 'thumb.jpg'));
      renameSync(dir, this.queue.jobDir(id));
      job = this.queue.add({ id, options: parsed.given, video });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    res.setHeader('Location', `/api/jobs/${id}`);
    sendJson(res, 201, { id: job.id, status: job.status, queue_position: job.queue_position });
  }

  private listJobs() {
    return { jobs: this.queue.list().map(publicJob) };
  }

  private getJob(id: string): JobView {
    const job = ID_PATTERN.test(id) ? this.queue.get(id) : undefined;
    if (!job) throw new HttpError(404, `no such job: ${id.slice(0, 40)}`);
    return job;
  }

  private job(id: string) {
    return publicJob(this.getJob(id));
  }

  private deleteJob(id: string) {
    this.getJob(id);
    const what = this.queue.cancelOrDelete(id);
    return { id, result: what, job: what === 'deleted' ? null : publicJob(this.getJob(id)) };
  }

  private jobFile(id: string, name: string): string {
    this.getJob(id);
    return path.join(this.queue.jobDir(id), name);
  }

  private async jobSource(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const job = this.getJob(id);
    await this.sendFile(req, res, path.join(this.queue.jobDir(id), job.video.file), videoType(job.video.file));
  }

  private async result(req: IncomingMessage, res: ServerResponse, id: string, url: URL): Promise<void> {
    const job = this.getJob(id);
    if (job.status !== 'done') throw new HttpError(409, `job ${id} is ${job.status}: its result exists once it is done`);
    if (url.searchParams.has('download')) {
      const base = job.video.name.replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_').slice(0, 80) || 'video';
      res.setHeader('Content-Disposition', `attachment; filename="${base}-videoshop.mp4"`);
    }
    await this.sendFile(req, res, path.join(this.queue.jobDir(id), 'result.mp4'), 'video/mp4');
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
      res.write(`event: job\ndata: ${JSON.stringify(publicJob(job))}\n\n`);
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
    res.on('close', () => {
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      this.queue.off('update', onUpdate);
      this.queue.off('deleted', onDeleted);
      this.streams.delete(res);
    });
    send();
  }

  /** A file with Range support (browsers seek videos with it). */
  private async sendFile(req: IncomingMessage, res: ServerResponse, file: string, type: string): Promise<void> {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw new HttpError(404, 'file not found');
    }
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
    let start = 0;
    let end = size - 1;
    if (range && (range[1] || range[2])) {
      if (range[1]) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(size - 1, Number(range[2]));
      } else {
        start = Math.max(0, size - Number(range[2]));
      }
      if (start > end || start >= size) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      res.writeHead(206, { 'Content-Type': type, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Accept-Ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Accept-Ranges': 'bytes' });
    }
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(file, { start, end });
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
  }
}

/** A job as the API shows it (no server paths). */
function publicJob(job: JobView) {
  const { video, ...rest } = job;
  const { file: _file, ...shown } = video;
  return {
    ...rest,
    video: shown,
    urls: {
      self: `/api/jobs/${job.id}`, events: `/api/jobs/${job.id}/events`, source: `/api/jobs/${job.id}/source`,
      edited_frame: `/api/jobs/${job.id}/edited.png`, thumbnail: `/api/jobs/${job.id}/thumb.jpg`,
      result: job.status === 'done' ? `/api/jobs/${job.id}/result` : null,
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
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
