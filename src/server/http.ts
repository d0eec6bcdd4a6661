/**
 * The API's answers: JSON bodies, JSON errors, and files with Range support. Every error is one JSON object,
 * `{"error": "<one line>", "code": "<stable code>", …}`; an engine refusal (VideoshopError) keeps its code, the field
 * at fault, its parameters and its message parts, worded for the API (`apiNaming`).
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiNaming, isVideoshopError, type VideoshopError } from '../edit/index.js';

/** An error the API answers with its status and code. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly code: string = codeOfStatus(status)) {
    super(message);
    this.name = 'HttpError';
  }
}

/** An engine refusal of one of the request's inputs: answered with `prefix` ("video rejected: ") before its message. */
export class InputRefused extends Error {
  constructor(readonly prefix: string, readonly error: VideoshopError) {
    super(prefix + error.message);
    this.name = 'InputRefused';
  }
}

function codeOfStatus(status: number): string {
  const codes: Record<number, string> = {
    400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 408: 'timeout', 411: 'length_required',
    409: 'not_ready', 413: 'too_large', 415: 'unsupported_media_type', 416: 'range_not_satisfiable', 421: 'wrong_host', 503: 'unavailable', 507: 'quota_full',
  };
  return codes[status] ?? 'internal';
}

/** The HTTP status of an engine refusal: the user's input (400) unless it is the server's own trouble. */
function statusOf(err: VideoshopError): number {
  if (err.code === 'storage_full') return 507;
  if (err.code === 'storage_error' || err.code === 'queue_unavailable') return 503;
  return 400;
}

/** The error body and status for any failure; `prefix` says which input was refused ("video rejected: "). */
export function errorBody(err: unknown, prefix = ''): { status: number; body: Record<string, unknown> } {
  if (err instanceof HttpError) return { status: err.status, body: { error: err.message, code: err.code } };
  if (err instanceof InputRefused) return errorBody(err.error, err.prefix);
  if (isVideoshopError(err)) {
    return {
      status: statusOf(err),
      body: { error: prefix + err.render(apiNaming), code: err.code, ...(err.field ? { field: err.field } : {}),
        params: err.params, parts: prefix ? [prefix, ...err.parts] : err.parts },
    };
  }
  return { status: 500, body: { error: `internal error: ${(err as Error)?.message ?? String(err)}`, code: 'internal' } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

/** A file with Range support (browsers seek videos with it; remote workers resume with it). */
export async function sendFile(req: IncomingMessage, res: ServerResponse, file: string, type: string): Promise<void> {
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

/** A path segment as the client sent it; a malformed %-escape is simply not an id (404), never a 500. */
export function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
