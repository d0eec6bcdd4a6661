/**
 * A tiny stand-in for the Hugging Face Hub on 127.0.0.1 (random port), implementing only what @huggingface/hub calls
 * during a download, with the real Hub's status codes and X-Error-Code headers:
 *   GET /api/models/<org>/<name>/revision/<rev>       model info ({ sha, gated, ... })
 *   GET /api/models/<org>/<name>/tree/<rev>?recursive  the file list (oid, size, lfs { oid, size })
 *   GET /<org>/<name>/resolve/<rev>/<path>            file bytes, Range supported (206 + Content-Range); LFS
 *                                                     files answer 302 to /cdn/<sha256>/<path> (the Hub's CDN)
 * Gated repos answer resolve with 401 (no token) or 403 (a token without access), as the Hub does; their info and
 * file list stay public. Every request is logged so tests can count them.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockRepo {
  id: string;
  commit: string;
  files: Record<string, string | Uint8Array>;
  /** Files stored with LFS (etag = sha256 of the content); the others are plain git files (etag = git oid). */
  lfs?: (path: string) => boolean;
  /** The token that has accepted the license; every other caller gets 401/403 on downloads. */
  gatedToken?: string;
  /** Sizes to claim in the file list instead of the real ones (disk-space checks). */
  claimedSizes?: Record<string, number>;
  /** A hostile server: rewrites each file-list entry (e.g. a hash with `../` in it, an absolute path). */
  tamper?: (entry: Record<string, unknown>) => Record<string, unknown>;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range: string | null;
  auth: string | null;
  /** The response status, once sent. */
  status?: number;
}

export interface MockHub {
  url: string;
  requests: LoggedRequest[];
  /**
   * The next `times` times `path` is served, cut the connection once the file's byte `afterBytes` is reached
   * (a request starting at or after it gets no body bytes at all).
   */
  cut(path: string, afterBytes: number, times: number): void;
  /** Answer resuming Range requests (bytes=N- with N > 0) with 200 and the whole file, like a CDN without Range support. */
  ignoreRange: boolean;
  /** Repo paths whose bytes stall: headers and the first `afterBytes` bytes are sent, then nothing, forever. */
  hang(path: string, afterBytes: number): void;
  /** Answer every request with 200 and an HTML page (a captive portal, a web server that is not a Hub). */
  html: boolean;
  /** Repo paths of the files whose bytes were sent (GETs other than the library's 1-byte probe). */
  downloads(): string[];
  close(): Promise<void>;
}

export function gitOid(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

const MAX_REQUESTS = 2000;

export async function startMockHub(repos: MockRepo[]): Promise<MockHub> {
  const byId = new Map(repos.map((r) => [r.id, r]));
  const lfsBlobs = new Map<string, { content: Uint8Array; path: string }>();
  const hubUrl = (): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const requests: LoggedRequest[] = [];
  const cuts = new Map<string, { afterBytes: number; times: number }>();
  const hangs = new Map<string, number>();
  const hub: Omit<MockHub, 'url'> = {
    requests,
    ignoreRange: false,
    html: false,
    hang: (p, afterBytes) => void hangs.set(p, afterBytes),
    cut: (p, afterBytes, times) => void cuts.set(p, { afterBytes, times }),
    downloads: () =>
      requests
        .filter((r) => r.method === 'GET' && /\/(resolve|cdn)\//.test(r.path) && (r.status === 200 || r.status === 206) && r.range !== 'bytes=0-0')
        .map((r) => r.path.replace(/^.*?\/resolve\/[^/]+\//, '').replace(/^\/cdn\/[0-9a-f]+\//, '')),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry: LoggedRequest = { method: req.method ?? '', path: decodeURIComponent(url.pathname), range: req.headers.range ?? null, auth: req.headers.authorization ?? null };
    requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    res.on('close', () => (entry.status ??= res.statusCode));
    if (requests.length > MAX_REQUESTS) return error(res, 500, 'too many requests: a test is looping');
    if (hub.html) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return void res.end('<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>\n');
    }
    try {
      route(req, res, url);
    } catch (e) {
      error(res, 500, (e as Error).message);
    }
  });
  server.requestTimeout = 10_000;

  function route(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname);
    const cdn = /^\/cdn\/([0-9a-f]{64})\/(.+)$/.exec(url.pathname);
    const blob = cdn ? lfsBlobs.get(cdn[1]) : undefined;
    if (cdn) return blob ? sendBytes(req, res, blob.content, blob.path, { ETag: `"${cdn[1]}"` }) : error(res, 404, 'no such blob');
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const m = api ?? resolve;
    if (!m) return error(res, 404, 'no such endpoint', 'NotFound');
    const repo = byId.get(decodeURIComponent(m[1]));
    if (!repo) return error(res, 404, 'Repository not found', 'RepoNotFound');
    const rev = decodeURIComponent(api ? m[3] : m[2]);
    if (rev !== 'main' && rev !== 'HEAD' && rev !== repo.commit) return error(res, 404, `Invalid rev id: ${rev}`, 'RevisionNotFound');
    if (api?.[2] === 'revision') return json(res, info(repo));
    if (api?.[2] === 'tree') return json(res, tree(repo));
    serveFile(req, res, repo, decodeURIComponent(m[3]));
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, repo: MockRepo, path: string): void {
    if (repo.gatedToken && req.headers.authorization !== `Bearer ${repo.gatedToken}`) {
      return req.headers.authorization
        ? error(res, 403, `Access to model ${repo.id} is restricted and you are not in the authorized list.`, 'GatedRepo')
        : error(res, 401, `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`, 'GatedRepo');
    }
    const raw = repo.files[path];
    if (raw === undefined) return error(res, 404, 'Entry not found', 'EntryNotFound');
    const content = bytes(raw);
    if (repo.lfs?.(path)) {
      // As the Hub does: a redirect to the CDN, carrying the file's etag and size.
      const sha = sha256(content);
      lfsBlobs.set(sha, { content, path });
      res.writeHead(302, {
        Location: `${hubUrl()}/cdn/${sha}/${path}`,
        'X-Repo-Commit': repo.commit,
        ETag: `"${gitOid(bytes(path))}"`,
        'X-Linked-Etag': `"${sha}"`,
        'X-Linked-Size': String(content.length),
      });
      return void res.end();
    }
    sendBytes(req, res, content, path, { 'X-Repo-Commit': repo.commit, ETag: `"${gitOid(content)}"` });
  }

  function sendBytes(req: IncomingMessage, res: ServerResponse, content: Uint8Array, path: string, extra: Record<string, string>): void {
    const headers: Record<string, string> = { 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream', ...extra };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = content.length - 1;
    if (range && !(hub.ignoreRange && Number(range[1]) > 0)) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), end) : end;
      if (start > end) return error(res, 416, 'Requested range not satisfiable', 'RangeNotSatisfiable');
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${content.length}`, 'Content-Length': String(end - start + 1) });
    } else {
      res.writeHead(200, { ...headers, 'Content-Length': String(content.length) });
    }
    if (req.method === 'HEAD') return void res.end();
    const body = content.subarray(start, end + 1);
    const hang = hangs.get(path);
    if (hang !== undefined && body.length > 1) {
      res.write(body.subarray(0, Math.max(0, hang - start)));
      return; // never ends: the client must time out
    }
    const cut = cuts.get(path);
    if (cut && cut.times > 0 && body.length > 1) {
      cut.times -= 1;
      res.write(body.subarray(0, Math.max(0, cut.afterBytes - start)));
      setTimeout(() => res.destroy(), 30); // let the bytes reach the client, then drop the connection
      return;
    }
    res.end(body);
  }

  function info(repo: MockRepo): unknown {
    return {
      _id: `id-${repo.id}`,
      id: repo.id,
      sha: repo.commit,
      private: false,
      gated: repo.gatedToken ? 'manual' : false,
      downloads: 0,
      likes: 0,
      lastModified: '2024-01-01T00:00:00.000Z',
      siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
    };
  }

  function tree(repo: MockRepo): unknown[] {
    const dirs = new Set<string>();
    const entries: unknown[] = [];
    for (const [path, raw] of Object.entries(repo.files)) {
      const content = bytes(raw);
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      const size = repo.claimedSizes?.[path] ?? content.length;
      const isLfs = repo.lfs?.(path) ?? false;
      const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(content)}\nsize ${size}\n`;
      const entry: Record<string, unknown> = isLfs
        ? { type: 'file', oid: gitOid(bytes(pointer)), size, path, lfs: { oid: sha256(content), size, pointerSize: pointer.length } }
        : { type: 'file', oid: gitOid(content), size, path };
      entries.push(repo.tamper ? repo.tamper(entry) : entry);
    }
    return [...[...dirs].map((path) => ({ type: 'directory', oid: gitOid(bytes(path)), size: 0, path })), ...entries];
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(hub, { url: `http://127.0.0.1:${port}` }) as MockHub;
}

function bytes(raw: string | Uint8Array): Uint8Array {
  return typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, message: string, code?: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...(code ? { 'X-Error-Code': code } : {}) });
  res.end(JSON.stringify({ error: message }));
}
