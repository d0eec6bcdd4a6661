/**
 * Downloads one file into `<blob>.incomplete`, resuming from whatever that file already holds (HTTP Range, through
 * the caller's `open(offset)`), retrying cut connections, then checks size and checksum and renames it into place.
 * @huggingface/hub's own downloadFileToCacheDir truncates `.incomplete` and starts over, hence this.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat, truncate } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as delay } from 'node:timers/promises';
import { HubError } from './errors.js';

/** sha256 of the content (LFS files), or git's blob sha1 (`blob <size>\0` + content) for small git files. */
export interface Checksum {
  kind: 'sha256' | 'git-sha1';
  hex: string;
}

export interface BlobDownload {
  /** The final blob path; `<blob>.incomplete` holds the partial download. */
  blob: string;
  size: number;
  checksum: Checksum | null;
  /** Names the file in messages. */
  label: string;
  /** The file's bytes from `offset` on. */
  open(offset: number): Promise<ReadableStream<Uint8Array>>;
  /** After a failed attempt: 'retry' for a transient failure, or the error to give up with. */
  classify(err: unknown): 'retry' | Error;
  /** Bytes of this file on disk so far (called often; not necessarily monotone across retries). */
  onBytes?(bytes: number): void;
  /** Consecutive failed attempts without progress before giving up (default 5). */
  retries?: number;
  retryDelayMs?: number;
  /** Stops at once, also during the back-off between attempts. */
  signal?: AbortSignal;
}

export async function downloadBlob(d: BlobDownload): Promise<void> {
  const partial = `${d.blob}.incomplete`;
  const maxFailures = d.retries ?? 5;
  let failures = 0;
  for (;;) {
    let offset = (await stat(partial).catch(() => null))?.size ?? 0;
    if (offset > d.size) {
      await truncate(partial, 0);
      offset = 0;
    }
    d.onBytes?.(offset);
    if (offset === d.size) break;
    try {
      await appendFrom(d, partial, offset);
      const size = (await stat(partial)).size;
      if (size === d.size) break;
      throw new TypeError(`terminated: the server sent ${size - offset} bytes, ${d.size - offset} expected`);
    } catch (err) {
      const verdict = d.classify(err);
      const grew = ((await stat(partial).catch(() => null))?.size ?? 0) > offset;
      failures = grew ? 1 : failures + 1;
      if (verdict !== 'retry') throw verdict;
      if (failures > maxFailures) {
        throw new HubError(
          'interrupted',
          `downloading ${d.label} kept failing (${(err as Error).message ?? String(err)}): check the network connection and run again; the download resumes where it stopped`,
        );
      }
      await sleep(Math.min(10_000, (d.retryDelayMs ?? 500) * 2 ** (failures - 1)), d.signal);
    }
  }
  await verify(d, partial);
  await rename(partial, d.blob);
}

/**
 * The back-off between attempts. An abort rejects at once with the signal's reason (the caller's own error, as a
 * fetch aborted by the same signal does), not with timers/promises' generic AbortError.
 */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}

async function appendFrom(d: BlobDownload, partial: string, offset: number): Promise<void> {
  const body = await d.open(offset);
  let bytes = offset;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      d.onBytes?.(Math.min(bytes, d.size));
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), counter, createWriteStream(partial, { flags: 'a' }));
}

async function verify(d: BlobDownload, partial: string): Promise<void> {
  if (!d.checksum) return;
  const hash = createHash(d.checksum.kind === 'sha256' ? 'sha256' : 'sha1');
  if (d.checksum.kind === 'git-sha1') hash.update(`blob ${d.size}\0`);
  for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
  const hex = hash.digest('hex');
  if (hex !== d.checksum.hex) {
    await rm(partial, { force: true });
    throw new HubError('corrupt', `${d.label} arrived damaged (${d.checksum.kind} ${hex.slice(0, 12)}…, expected ${d.checksum.hex.slice(0, 12)}…); the partial file was deleted: run again`);
  }
}
