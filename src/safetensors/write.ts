/** Writes .safetensors files (used by tests, oracles' consumers and tools that save converted weights). */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { float32ToHalf } from './half.js';

export interface TensorToWrite {
  name: string;
  dtype: 'F32' | 'F16';
  shape: number[];
  data: Float32Array;
}

/**
 * Writes atomically (temp file in the same folder, then rename), so a crash never leaves a half-written file that a
 * later run would trust. The JSON header is padded with spaces to a multiple of 8 bytes, like the reference writer,
 * which keeps every tensor's data 8-byte aligned in the file.
 */
export function writeSafetensors(file: string, tensors: TensorToWrite[], metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const payloads: Uint8Array[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || seen.has(t.name)) throw new Error(`writeSafetensors: bad or duplicate tensor name "${t.name}"`);
    seen.add(t.name);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) {
      throw new Error(`writeSafetensors: "${t.name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    }
    const bytes = t.dtype === 'F32'
      ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
      : new Uint8Array(float32ToHalf(t.data).buffer);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    payloads.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const headerBuf = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBuf.length));

  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  let written = false;
  try {
    writeAll(fd, len);
    writeAll(fd, headerBuf);
    for (const p of payloads) writeAll(fd, p);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) rmSync(tmp, { force: true });
  }
  renameSync(tmp, abs);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) {
    done += writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30));
  }
}
