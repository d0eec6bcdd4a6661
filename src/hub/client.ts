/**
 * The few Hub calls a download needs, through @huggingface/hub (modelInfo → commit, listFiles → sizes and etags,
 * fileDownloadInfo + downloadFile → the bytes), with a fetch wrapper that remembers the Hub's X-Error-Code header
 * (the library's HubApiError drops headers) so failures become one-line messages.
 */
import { downloadFile, fileDownloadInfo, HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import type { Checksum } from './blob.js';
import { COMMIT_HASH } from './cache.js';
import { explainError, HubError, httpError, isNetworkError, StallError, type FailureContext } from './errors.js';
import { checkBlobHash, checkRepoPath, checkSize, untrusted } from './validate.js';

export interface RemoteFile {
  path: string;
  size: number;
  /** Blob name in the cache: the LFS sha256, else the git oid (what Python's huggingface_hub uses too). */
  etag: string;
  checksum: Checksum | null;
}

interface HttpFailure {
  url: string;
  status: number;
  errorCode: string | null;
}

export interface HubClientOptions {
  repoId: string;
  revision: string;
  hubUrl: string;
  token?: string;
  cacheDir: string;
  /** A request or body that sends nothing for this long fails with a StallError (retried by downloadBlob). */
  timeoutMs: number;
  /** Aborts every request at once (Ctrl-C). */
  signal?: AbortSignal;
}

export class HubClient {
  /** Every request goes through this; tests and callers can see what was asked. */
  readonly fetch: typeof fetch;
  private lastFailure: HttpFailure | null = null;

  constructor(private readonly o: HubClientOptions) {
    this.fetch = async (input, init) => {
      const stall = new AbortController();
      const signals = [stall.signal, ...(o.signal ? [o.signal] : []), ...(init?.signal ? [init.signal] : [])];
      const timer = setTimeout(() => stall.abort(new StallError(o.timeoutMs / 1000)), o.timeoutMs);
      let res: Response;
      try {
        res = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
      } finally {
        clearTimeout(timer);
      }
      if (!res.ok) {
        this.lastFailure = { url: res.url || String(input), status: res.status, errorCode: res.headers.get('x-error-code') };
        return res;
      }
      return watchBody(honourRange(res, init), o.timeoutMs, stall);
    };
  }

  private get credentials(): { hubUrl: string; accessToken?: string; fetch: typeof fetch } {
    return { hubUrl: this.o.hubUrl, fetch: this.fetch, ...(this.o.token ? { accessToken: this.o.token } : {}) };
  }

  context(file?: string): FailureContext {
    return {
      repoId: this.o.repoId,
      revision: this.o.revision,
      hubUrl: this.o.hubUrl,
      cacheDir: this.o.cacheDir,
      hasToken: Boolean(this.o.token),
      file,
      errorCode: this.lastFailure?.errorCode,
    };
  }

  /** Any failure → a one-line HubError (see errors.ts). */
  explain(err: unknown, file?: string): Error {
    return explainError(err, this.context(file));
  }

  /** The commit a branch or tag points to now. */
  async resolveCommit(): Promise<string> {
    try {
      const info = await modelInfo({ ...this.credentials, name: this.o.repoId, revision: this.o.revision, additionalFields: ['sha'] });
      if (typeof info.sha !== 'string' || !COMMIT_HASH.test(info.sha)) {
        throw new HubError('server', `${this.o.hubUrl} gave no commit for ${this.o.repoId}@${this.o.revision}: try again later`);
      }
      return info.sha;
    } catch (err) {
      throw this.explainUntrusted(err, 'model info');
    }
  }

  /** Every file of the repo at `commit`, with its size and cache etag. */
  async listFiles(commit: string): Promise<Map<string, RemoteFile>> {
    const files = new Map<string, RemoteFile>();
    try {
      for await (const e of listFiles({ ...this.credentials, repo: this.o.repoId, revision: commit, recursive: true })) {
        if (e.type !== 'file') continue;
        // Names, hashes and sizes become paths and allocations: validated before use (see validate.ts).
        const url = this.o.hubUrl;
        const p = checkRepoPath(e.path, url);
        if (e.lfs) {
          const hex = checkBlobHash(e.lfs.oid, url);
          files.set(p, { path: p, size: checkSize(e.lfs.size, url), etag: hex, checksum: { kind: 'sha256', hex } });
        } else if (e.oid) {
          const hex = checkBlobHash(e.oid, url);
          files.set(p, { path: p, size: checkSize(e.size, url), etag: hex, checksum: { kind: 'git-sha1', hex } });
        } else if (e.xetHash) {
          files.set(p, { path: p, size: checkSize(e.size, url), etag: checkBlobHash(e.xetHash, url), checksum: null });
        }
      }
    } catch (err) {
      throw this.explainUntrusted(err, 'file list');
    }
    return files;
  }

  /** Like explain, but a malformed answer (a TypeError from the library parsing it) is the server's fault. */
  private explainUntrusted(err: unknown, what: string): Error {
    const e = this.explain(err);
    if (this.o.signal?.aborted) return e;
    return e instanceof TypeError && !isNetworkError(e) ? untrusted(this.o.hubUrl, what) : e;
  }

  /** Returns `open(offset)` for one file: its bytes from `offset` on (a Range request when offset > 0). */
  async opener(file: RemoteFile, commit: string): Promise<(offset: number) => Promise<ReadableStream<Uint8Array>>> {
    const params = { ...this.credentials, repo: this.o.repoId, path: file.path, revision: commit };
    let info;
    try {
      info = await fileDownloadInfo(params);
    } catch (err) {
      throw this.explain(err, file.path);
    }
    if (!info) throw httpError(404, { ...this.context(file.path), errorCode: 'EntryNotFound' });
    const downloadInfo = info;
    return async (offset) => {
      this.lastFailure = null;
      // xet: false → plain HTTP (the Hub redirects to its CDN), the path Python clients without hf_xet use too.
      const blob = await downloadFile({ ...params, downloadInfo, xet: false });
      if (!blob) throw httpError(404, { ...this.context(file.path), errorCode: 'EntryNotFound' });
      return (offset > 0 ? blob.slice(offset) : blob).stream();
    };
  }

  /**
   * Bytes [start, end) of one file, by an HTTP Range request (redirects to the CDN followed): a large file's header is
   * checked this way before the file is downloaded. A server that ignores Range is read only as far as `end`.
   */
  async readRange(file: RemoteFile, commit: string, start: number, end: number): Promise<Uint8Array> {
    const length = Math.max(0, Math.min(end, file.size) - start);
    if (length === 0) return new Uint8Array(0);
    const url = `${this.o.hubUrl}/${this.o.repoId}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
    const headers: Record<string, string> = { Range: `bytes=${start}-${start + length - 1}` };
    if (this.o.token) headers.Authorization = `Bearer ${this.o.token}`;
    try {
      this.lastFailure = null;
      const res = await this.fetch(url, { headers });
      if (!res.ok) throw httpError(res.status, this.context(file.path));
      const out = new Uint8Array(length);
      let got = 0;
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      while (got < length) {
        const { done, value } = await reader.read();
        if (done) break;
        const take = Math.min(value.length, length - got);
        out.set(value.subarray(0, take), got);
        got += take;
      }
      await reader.cancel().catch(() => undefined);
      if (got < length) throw new HubError('server', `${this.o.hubUrl} sent ${got} of ${length} bytes of ${this.o.repoId}/${file.path}: try again later`);
      return out;
    } catch (err) {
      throw this.explain(err, file.path);
    }
  }

  /** After a failed attempt at a file: retry transient failures, give up on the rest with a clear message. */
  classify(err: unknown, file: string): 'retry' | Error {
    if (this.o.signal?.aborted) return abortError(this.o.signal);
    if (err instanceof StallError) return 'retry';
    const status = err instanceof HubApiError ? err.statusCode : this.lastFailure?.status;
    if (status !== undefined) return status >= 500 || status === 408 ? 'retry' : httpError(status, this.context(file));
    // The library aborts a failed body stream with the error's message (a string), e.g. "terminated".
    if (isNetworkError(err) || (typeof err === 'string' && /terminated|fetch failed|socket|other side closed/i.test(err))) return 'retry';
    return this.explain(err, file);
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new HubError('interrupted', 'the download was cancelled');
}

/**
 * The body errors with a StallError when no chunk arrives for `ms` (a server that sends headers, then nothing); the
 * timer only runs while the consumer waits for data, so a slow consumer is not mistaken for a stalled server.
 */
function watchBody(res: Response, ms: number, stall: AbortController): Response {
  if (!res.body) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let stalled = false;
      const timer = setTimeout(() => {
        stalled = true;
        const err = new StallError(ms / 1000);
        stall.abort(err);
        controller.error(err);
        void reader.cancel(err).catch(() => undefined);
      }, ms);
      try {
        const { done, value } = await reader.read();
        if (stalled) return;
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        if (!stalled) controller.error(err);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const wrapped = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  // The library remembers where a redirect led (the CDN) through these; a constructed Response has none.
  Object.defineProperty(wrapped, 'url', { value: res.url });
  Object.defineProperty(wrapped, 'redirected', { value: res.redirected });
  return wrapped;
}

/** A server that ignores `Range: bytes=N-` answers 200 with the whole file: drop the first N bytes ourselves. */
function honourRange(res: Response, init: RequestInit | undefined): Response {
  const range = new Headers(init?.headers).get('range');
  const start = Number(/^bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0);
  if (res.status !== 200 || start === 0 || !res.body) return res;
  let skip = start;
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (skip >= chunk.length) {
          skip -= chunk.length;
          return;
        }
        controller.enqueue(skip > 0 ? chunk.subarray(skip) : chunk);
        skip = 0;
      },
    }),
  );
  return new Response(body, { status: 206, statusText: 'Partial Content', headers: res.headers });
}
