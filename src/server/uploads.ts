/**
 * Multipart uploads streamed to disk under server-chosen names, with a size limit enforced while the bytes arrive,
 * then checked: videos with ffprobe (and their first frame extracted with ffmpeg), images with sharp.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, rmSync, statSync, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import busboy from 'busboy';
import sharp, { type Metadata } from 'sharp';
import { ffmpegPath, fileArg, probeVideo, type VideoInfo } from '../video/index.js';
import { MAX_IMAGE_PIXELS } from '../video/image.js';
import { HttpError } from './http-error.js';
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

/** `allowed` maps each accepted file field to the base name it is saved as (an extension is added from the client's name). */
export function receiveMultipart(req: IncomingMessage, dir: string, allowed: Record<string, string>, maxBytes: number): Promise<Multipart> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) return Promise.reject(new HttpError(415, 'expected a multipart/form-data body'));
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes + 64 * 1024) {
    return Promise.reject(new HttpError(413, `upload too large: ${mb(declared)} MB, the limit is ${mb(maxBytes)} MB`));
  }
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: Record<string, ReceivedFile> = {};
    const writes: Promise<void>[] = [];
    const outs: WriteStream[] = [];
    let failed: HttpError | null = null;
    let total = 0;
    const fail = (err: HttpError) => {
      if (failed) return;
      failed = err;
      req.unpipe(parser);
      req.resume(); // drain, so the 4xx answer reaches the client
      // The files go once their streams have closed, then the caller may remove the folder.
      const closed = outs.map((out) => new Promise<void>((res) => (out.closed ? res() : out.once('close', () => res()))));
      for (const out of outs) out.destroy();
      void Promise.all(closed).then(() => {
        for (const f of Object.values(files)) rmSync(f.path, { force: true });
        reject(err);
      });
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: maxBytes, files: Object.keys(allowed).length, fields: 20, fieldSize: 64 * 1024 } });
    } catch {
      reject(new HttpError(400, 'malformed multipart body'));
      return;
    }
    parser.on('file', (field, stream, info) => {
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
        received.bytes += chunk.length;
        total += chunk.length;
        if (total > maxBytes) fail(new HttpError(413, `upload too large: the limit is ${mb(maxBytes)} MB`));
      });
      stream.on('limit', () => fail(new HttpError(413, `upload too large: the limit is ${mb(maxBytes)} MB`)));
      const written = new Promise<void>((res, rej) => {
        out.on('finish', res);
        out.on('error', rej);
      });
      written.catch(() => {}); // a failed upload is answered by fail(), not by this promise
      writes.push(written);
      stream.pipe(out);
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new HttpError(413, `field "${name}" is too long`));
      fields[name] = value;
    });
    parser.on('error', () => fail(new HttpError(400, 'malformed multipart body')));
    parser.on('close', () => {
      if (failed) return;
      Promise.all(writes).then(() => resolve({ fields, files }), () => fail(new HttpError(500, 'could not store the upload')));
    });
    req.on('aborted', () => fail(new HttpError(400, 'upload aborted')));
    req.pipe(parser);
  });
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0);
}

/** ffprobe's view of an uploaded video; a 400 with ffprobe's reason when it is not one. */
export async function checkVideo(file: ReceivedFile): Promise<{ info: VideoInfo; summary: VideoSummary }> {
  let info: VideoInfo;
  try {
    info = await probeVideo(file.path);
  } catch (err) {
    const reason = (err as Error).message.replaceAll(file.path, file.filename);
    throw new HttpError(400, `video rejected: ${reason}`);
  }
  return {
    info,
    summary: {
      name: file.filename, file: path.basename(file.path), width: info.width, height: info.height, frames: info.frameCount,
      fps: info.fpsValue, duration_s: info.durationSeconds, bytes: statSync(file.path).size,
    },
  };
}

const IMAGE_FORMATS = new Set(['png', 'jpeg', 'webp', 'tiff', 'gif', 'avif', 'heif']);

/** The edited frame, checked with sharp and stored as PNG (`to`); its size must match the video's aspect ratio. */
export async function checkImage(file: ReceivedFile, to: string): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(file.path).metadata();
  } catch {
    throw new HttpError(400, `edited_frame rejected: ${file.filename} is not an image (png, jpg, webp…)`);
  }
  if (!meta.format || !IMAGE_FORMATS.has(meta.format) || !meta.width || !meta.height) {
    throw new HttpError(400, `edited_frame rejected: unsupported image format ${meta.format ?? 'unknown'}`);
  }
  // The edit reads it with the same budget (video/image.ts), so nothing is queued that would fail only at edit time.
  if (meta.width * meta.height > MAX_IMAGE_PIXELS) {
    throw new HttpError(400, `edited_frame rejected: ${meta.width}×${meta.height} is over ${MAX_IMAGE_PIXELS / 1e6} megapixels; scale it down to the video's size`);
  }
  await sharp(file.path).png().toFile(to);
  if (path.resolve(to) !== path.resolve(file.path)) rmSync(file.path, { force: true });
  return { width: meta.width, height: meta.height };
}

/** The video's first frame as PNG (display size, rotation applied), for the editor. */
export async function extractFirstFrame(video: string, to: string): Promise<void> {
  // file: paths: a stored name is never an option, a protocol or an image2 pattern.
  await runFfmpeg(['-nostdin', '-v', 'error', '-i', fileArg(video), '-frames:v', '1', '-f', 'image2', '-update', '1', '-c:v', 'png', fileArg(to)]);
}

/** A small JPEG of an image, for the job history. */
export async function thumbnail(image: string, to: string): Promise<void> {
  await sharp(image).resize({ width: 320, height: 180, fit: 'inside' }).jpeg({ quality: 80 }).toFile(to);
}

function runFfmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new HttpError(400, `ffmpeg could not read the video: ${err.trim().split('\n').at(-1)}`))));
  });
}
