/**
 * Multipart uploads streamed to disk under server-chosen names, with the size limit and the storage quota enforced on
 * the bytes as they arrive, then checked by the engine's own readers (src/edit: inspectVideo, inspectImage,
 * exportFrame), so what a job is queued with is what the edit will read.
 *
 * Every way a body can go wrong ends this request only: a form cut short ("Unexpected end of form"), a client that
 * goes away, a body that stops or trickles (408), a disk that fills up.
 */
import { createWriteStream, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import busboy from 'busboy';
import sharp from 'sharp';
import { exportFrame, inspectImage, inspectVideo, isVideoshopError, type VideoSummary as EngineVideo } from '../edit/index.js';
import { HttpError, InputRefused } from './http.js';
import type { VideoSummary } from './store.js';

export interface ReceivedFile {
  /** Where it was written (a name chosen by the server). */
  path: string;
  /** The client's file name: display only, never a path. */
  filename: string;
  bytes: number;
}

export interface Multipart {
  fields: Record<string, string>;
  files: Record<string, ReceivedFile>;
}

export interface BodyLimits {
  maxBytes: number;
  /** Counts each chunk against the quota (throws a 507 HttpError when it cannot hold it). */
  account: { add(bytes: number): void };
  /** A body that sends nothing for this long is dropped (408). */
  idleMs?: number;
  /** After `slowAfterMs`, a body arriving slower than `minBytesPerSecond` on average is dropped (408). */
  minBytesPerSecond?: number;
  slowAfterMs?: number;
}

const DEFAULT_IDLE_MS = 30_000;
const DEFAULT_MIN_RATE = 8 * 1024;
const DEFAULT_SLOW_AFTER_MS = 60_000;

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0);
}

/** `allowed` maps each accepted file field to the base name it is saved as (an extension is added from the client's name). */
export function receiveMultipart(req: IncomingMessage, dir: string, allowed: Record<string, string>, limits: BodyLimits): Promise<Multipart> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) return Promise.reject(new HttpError(415, 'expected a multipart/form-data body'));
  const { maxBytes } = limits;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes + 64 * 1024) {
    return Promise.reject(new HttpError(413, `upload too large: ${mb(declared)} MB, the limit is ${mb(maxBytes)} MB`));
  }
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: Record<string, ReceivedFile> = {};
    const writes: Promise<void>[] = [];
    const outs: WriteStream[] = [];
    const started = Date.now();
    let failed: HttpError | null = null;
    let total = 0;
    let body = 0;
    let idle: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(idle);
      req.off('data', onData);
    };
    const fail = (e: HttpError) => {
      if (failed) return;
      failed = e;
      done();
      req.unpipe(parser);
      if (e.status === 408) req.destroy(); // a stalled client gets no answer worth waiting for
      else req.resume(); // drain, so the 4xx answer reaches the client
      // The files go once their streams have closed, then the caller may remove the folder.
      const closed = outs.map((out) => new Promise<void>((res) => (out.closed ? res() : out.once('close', () => res()))));
      for (const out of outs) out.destroy();
      void Promise.all(closed).then(() => {
        for (const f of Object.values(files)) rmSync(f.path, { force: true });
        reject(e);
      });
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(new HttpError(408, 'the upload stopped sending data: try again')), limits.idleMs ?? DEFAULT_IDLE_MS);
      idle.unref();
    };
    const onData = (chunk: Buffer) => {
      body += chunk.length;
      arm();
      const elapsed = Date.now() - started;
      if (elapsed > (limits.slowAfterMs ?? DEFAULT_SLOW_AFTER_MS) && body / (elapsed / 1000) < (limits.minBytesPerSecond ?? DEFAULT_MIN_RATE)) {
        fail(new HttpError(408, 'the upload is arriving too slowly: try again on a faster connection'));
      }
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8',
        limits: { fileSize: maxBytes, files: Object.keys(allowed).length, fields: 40, fieldSize: 64 * 1024 } });
    } catch {
      reject(new HttpError(400, 'malformed multipart body'));
      return;
    }
    parser.on('file', (field, stream, info) => {
      // A form that ends mid-file errors on the file's stream as well as on the parser.
      stream.on('error', () => fail(new HttpError(400, 'malformed multipart body: it ended before its closing boundary')));
      const base = allowed[field];
      if (!base || files[field] || failed) {
        stream.resume();
        if (!failed) fail(new HttpError(400, base ? `file field "${field}" given twice` : `unexpected file field "${field}": expected ${Object.keys(allowed).join(', ')}`));
        return;
      }
      const ext = path.extname(info.filename ?? '').toLowerCase();
      const file = path.join(dir, base + (/^\.[a-z0-9]{1,5}$/.test(ext) ? ext : ''));
      const received: ReceivedFile = { path: file, filename: String(info.filename ?? base).slice(0, 200), bytes: 0 };
      files[field] = received;
      const out = createWriteStream(file, { flags: 'wx' });
      outs.push(out);
      stream.on('data', (chunk: Buffer) => {
        if (failed) return;
        received.bytes += chunk.length;
        total += chunk.length;
        if (total > maxBytes) return fail(new HttpError(413, `upload too large: the limit is ${mb(maxBytes)} MB`));
        try {
          limits.account.add(chunk.length);
        } catch (err) {
          fail(err as HttpError); // the quota's 507
        }
      });
      stream.on('limit', () => fail(new HttpError(413, `upload too large: the limit is ${mb(maxBytes)} MB`)));
      const written = new Promise<void>((res, rej) => {
        out.on('finish', res);
        out.on('error', (err: NodeJS.ErrnoException) => {
          rej(err);
          fail(err.code === 'ENOSPC' || err.code === 'EDQUOT'
            ? new HttpError(507, 'the server\'s disk is full: try again later')
            : new HttpError(500, 'could not store the upload', 'storage_error'));
        });
      });
      written.catch(() => {}); // a failed upload is answered by fail(), not by this promise
      writes.push(written);
      stream.pipe(out);
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new HttpError(413, `field "${name}" is too long`));
      fields[name] = value;
    });
    parser.on('error', () => fail(new HttpError(400, 'malformed multipart body: it ended before its closing boundary')));
    parser.on('close', () => {
      if (failed) return;
      done();
      // A write error was answered by its stream's own handler already; this only makes sure one answer is given.
      Promise.all(writes).then(() => resolve({ fields, files }), () => fail(new HttpError(500, 'could not store the upload', 'storage_error')));
    });
    req.on('aborted', () => fail(new HttpError(400, 'upload aborted')));
    req.on('error', () => fail(new HttpError(400, 'upload aborted')));
    req.on('data', onData);
    arm();
    req.pipe(parser);
  });
}

/** A received video, read as the edit reads it; a 400 with the reason (naming the client's file, not ours) when it is not one. */
export async function checkVideo(file: ReceivedFile): Promise<{ info: EngineVideo; summary: VideoSummary }> {
  let info: EngineVideo;
  try {
    info = await inspectVideo(file.path, file.filename);
  } catch (err) {
    throw refused(err, 'video rejected: ');
  }
  return {
    info,
    summary: {
      name: file.filename, file: path.basename(file.path), width: info.width, height: info.height, frames: info.frames,
      fps: info.fps, duration_s: info.durationSeconds, bytes: statSync(file.path).size,
    },
  };
}

/** An engine refusal of an input, said with which input it was. */
function refused(err: unknown, prefix: string): unknown {
  return isVideoshopError(err) ? new InputRefused(prefix, err) : err;
}

/** The edited frame (or a keyframe: `field`), checked as the edit will read it (format, pixel budget) and stored as PNG at `to`. */
export async function checkImage(file: ReceivedFile, to: string, field = 'edited_frame'): Promise<{ width: number; height: number }> {
  let size: { width: number; height: number };
  try {
    size = await inspectImage(file.path, file.filename);
  } catch (err) {
    throw refused(err, `${field} rejected: `);
  }
  await sharp(file.path).png().toFile(to);
  if (path.resolve(to) !== path.resolve(file.path)) rmSync(file.path, { force: true });
  return size;
}

/** The frame the user edits, exactly as the edit decodes it (display size, rotation applied, 16-bit for deep sources). */
export async function extractFrame(video: string, to: string, index = 0): Promise<void> {
  try {
    await exportFrame(video, to, { index, force: true });
  } catch (err) {
    throw refused(err, 'video rejected: ');
  }
}

/** The first frame at or after `time` seconds (the frame an edit with that start is conditioned on). */
export async function extractFrameAt(video: string, to: string, time: number): Promise<void> {
  const partial = `${to}.partial.png`;
  try {
    await exportFrame(video, partial, { time, force: true });
    renameSync(partial, to);
  } catch (err) {
    rmSync(partial, { force: true });
    throw refused(err, 'video rejected: ');
  }
}

/** A small JPEG of an image, for the job history. */
export async function thumbnail(image: string, to: string): Promise<void> {
  await sharp(image).resize({ width: 320, height: 180, fit: 'inside' }).jpeg({ quality: 80 }).toFile(to);
}

/** A 0/1 mask as a greyscale PNG (0/255), for the page to overlay. */
export function maskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  const grey = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) grey[i] = mask[i] ? 255 : 0;
  return sharp(grey, { raw: { width, height, channels: 1 } }).png().toBuffer();
}
