/** Turns Hub, network and disk failures into one-line messages that say what to do. */
import { HubApiError } from '@huggingface/hub';
import { snakeCode, VideoshopError } from '../util/errors.js';

export type HubErrorKind =
  | 'gated'
  | 'unauthorized'
  | 'not-found'
  | 'revision-not-found'
  | 'file-not-found'
  | 'network'
  | 'interrupted'
  | 'corrupt'
  | 'disk-full'
  | 'not-writable'
  | 'offline-missing'
  | 'bad-endpoint'
  | 'stalled'
  | 'server';

/** A Hub, network or cache failure: code `hub_<kind>` (hub_gated, hub_network…), `kind` the same in the Hub's terms. */
export class HubError extends VideoshopError {
  override name = 'HubError';
  /** What went wrong, without the advice (for notices that go on anyway). */
  readonly summary: string;
  constructor(readonly kind: HubErrorKind, message: string, summary?: string) {
    super(`hub_${snakeCode(kind)}`, message);
    this.summary = summary ?? message;
  }
}

/** A transfer that sent nothing for the configured time (see ResolveOptions.timeoutMs): retried, then reported as a HubError. */
export class StallError extends Error {
  constructor(readonly seconds: number) {
    super(`stalled: no data for ${seconds} s`);
    this.name = 'StallError';
  }
}

/** What a message needs to know about the request that failed. */
export interface FailureContext {
  repoId: string;
  revision: string;
  hubUrl: string;
  cacheDir: string;
  hasToken: boolean;
  /** The repo path being fetched, when the failure concerns one file. */
  file?: string;
  /** The Hub's X-Error-Code header (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo), when seen. */
  errorCode?: string | null;
}

const TOKEN_HELP = 'https://huggingface.co/settings/tokens';

export function gatedMessage(ctx: FailureContext): string {
  const page = `${ctx.hubUrl}/${ctx.repoId}`;
  return ctx.hasToken
    ? `${ctx.repoId} is gated and HF_TOKEN has no access to it: accept its license at ${page} while logged in as the token's owner, then retry (or set HF_TOKEN=<a read token of that account from ${TOKEN_HELP}>)`
    : `${ctx.repoId} is gated: accept its license at ${page} while logged in, then set HF_TOKEN=<a read token from ${TOKEN_HELP}>`;
}

/** An HTTP failure status from the Hub → HubError. */
export function httpError(status: number, ctx: FailureContext): HubError {
  const code = ctx.errorCode ?? null;
  const what = ctx.file ? `${ctx.repoId}@${ctx.revision}/${ctx.file}` : ctx.repoId;
  if (code === 'GatedRepo') return new HubError('gated', gatedMessage(ctx));
  if (code === 'RevisionNotFound') {
    return new HubError('revision-not-found', `${ctx.repoId} has no revision "${ctx.revision}": give a branch, tag or commit of the repo (default: main)`);
  }
  if (code === 'EntryNotFound') {
    return new HubError('file-not-found', `${what} does not exist on the Hub: the repo changed while downloading; run again`);
  }
  if (code === 'RepoNotFound' || (status === 404 && !ctx.file)) {
    return new HubError(
      'not-found',
      `${ctx.repoId} was not found on ${ctx.hubUrl}${ctx.hasToken ? '' : ' (or it is private)'}: check the id (e.g. stabilityai/stable-video-diffusion-img2vid)${ctx.hasToken ? ' and that HF_TOKEN can read it' : `; for a private repo set HF_TOKEN=<a read token from ${TOKEN_HELP}>`}`,
    );
  }
  if (status === 401 || status === 403) {
    if (!ctx.hasToken) return new HubError('gated', gatedMessage(ctx));
    return new HubError(
      'unauthorized',
      `${ctx.hubUrl} refused HF_TOKEN for ${what} (HTTP ${status}): if the repo is gated accept its license at ${ctx.hubUrl}/${ctx.repoId}; otherwise create a new read token at ${TOKEN_HELP}`,
    );
  }
  if (status === 404) return new HubError('file-not-found', `${what} does not exist on the Hub (HTTP 404): run again; if it persists the repo is broken`);
  if (status === 429) return new HubError('server', `${ctx.hubUrl} is rate-limiting downloads (HTTP 429): wait a few minutes and run again${ctx.hasToken ? '' : ', or set HF_TOKEN'}`);
  return new HubError('server', `${ctx.hubUrl} answered HTTP ${status} for ${what}: try again later`);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** The errno-like code of an error or of its `cause` chain (fetch wraps socket errors as TypeError('fetch failed')). */
export function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function isNetworkError(err: unknown): boolean {
  const code = errorCode(err);
  if (code && NETWORK_CODES.has(code)) return true;
  // undici: 'fetch failed' (no connection), 'terminated' (connection cut mid-body).
  return err instanceof TypeError && /fetch failed|terminated|network/i.test(err.message);
}

/**
 * Any failure while talking to the Hub or writing the cache → HubError (HubErrors pass through; programming errors
 * are rethrown as they are).
 */
export function explainError(err: unknown, ctx: FailureContext): Error {
  if (err instanceof HubError) return err;
  if (err instanceof HubApiError) return httpError(err.statusCode, ctx);
  const stall = findStall(err);
  if (stall) {
    const summary = `${ctx.hubUrl} stopped sending data (nothing for ${stall.seconds} s)`;
    return new HubError('stalled', `${summary}: check the network connection and run again, or raise VIDEOSHOP_HUB_TIMEOUT (seconds)`, summary);
  }
  if (err instanceof SyntaxError) {
    // An HTML page (a login portal, a proxy's error page, a web server that is not a Hub) where JSON was expected.
    return new HubError('server', `${ctx.hubUrl} did not answer like a Hugging Face Hub (not JSON: an HTML page?): check HF_ENDPOINT, or unset it to use https://huggingface.co`);
  }
  const code = errorCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return diskFull(ctx.cacheDir);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new HubError('not-writable', `cannot write to the Hugging Face cache ${ctx.cacheDir} (${code}): set HF_HUB_CACHE (or HF_HOME) to a writable folder`);
  }
  if (isNetworkError(err)) {
    const summary = `cannot reach ${ctx.hubUrl} (${code ?? (err as Error).message})`;
    return new HubError(
      'network',
      `${summary}: check the network connection, or set HF_HUB_OFFLINE=1 to use only models already in the cache (${ctx.cacheDir})`,
      summary,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}

function findStall(err: unknown): StallError | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StallError) return e;
  }
  return undefined;
}

export function diskFull(cacheDir: string, detail = ''): HubError {
  return new HubError(
    'disk-full',
    `disk full: the Hugging Face cache ${cacheDir} has no room${detail}; free some space or set HF_HUB_CACHE to a folder on a bigger disk, then run again (the download resumes)`,
  );
}
