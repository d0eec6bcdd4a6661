/**
 * Reads .safetensors weight files lazily: only the JSON headers are parsed up front; tensor bytes are read on demand
 * (or never, when a graph points ONNX Runtime straight at them as external data).
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {...}}, then the data; offsets are relative to the end of the header.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { VideoshopError } from '../util/errors.js';
import { bf16ToFloat32, halfToFloat32 } from './half.js';

export type StDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<StDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export interface TensorInfo {
  name: string;
  dtype: StDtype;
  shape: number[];
  /** Absolute path of the .safetensors file. */
  file: string;
  /** Absolute byte offset of the data in that file (8 + header length + data_offsets[0]); may exceed 4 GiB. */
  offset: number;
  byteLength: number;
}

/** The reference implementation refuses headers above 100 MB; so do we (a larger one means a corrupt file). */
export const MAX_HEADER_BYTES = 100_000_000;
/** fs.readSync reads at most 2 GiB − 1 per call. */
const READ_CHUNK = 1 << 30;

/** A damaged or unusable weights file: one line naming the file and the field (the CLI prints it as is). */
export class SafetensorsError extends VideoshopError {
  override name = 'SafetensorsError';
  constructor(message: string) {
    super('bad_weights', message);
  }
}

function isStDtype(s: unknown): s is StDtype {
  return typeof s === 'string' && Object.hasOwn(DTYPE_BYTES, s);
}

/** Parses and validates one file's header. Every tensor's byte range must lie inside the file and match its shape. */
export function readHeader(file: string): { tensors: TensorInfo[]; metadata: Record<string, string> } {
  const abs = path.resolve(file);
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch (e) {
    throw new SafetensorsError(`cannot open safetensors file ${abs}: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const fail = (why: string): never => {
      throw new SafetensorsError(`${abs} is not a valid safetensors file: ${why}`);
    };
    if (size < 8) fail(`only ${size} bytes (truncated?)`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const big = lenBuf.readBigUInt64LE(0);
    if (big > BigInt(MAX_HEADER_BYTES)) fail(`header length ${big} is implausible (corrupt file?)`);
    const headerLen = Number(big);
    if (8 + headerLen > size) fail(`header of ${headerLen} bytes runs past the end of the ${size}-byte file (truncated?)`);
    const headerBuf = Buffer.alloc(headerLen);
    if (readSync(fd, headerBuf, 0, headerLen, 8) !== headerLen) fail('short read of the header');
    return parseHeader(headerBuf, size, abs);
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses a header's JSON (the `headerLen` bytes after the 8-byte length) of a file of `fileSize` bytes: every tensor's
 * byte range must lie inside the file and match its shape. `file` names the file in messages and in the TensorInfos.
 * Also used on a header fetched from the Hub with a range request, before the file itself is downloaded.
 */
export function parseHeader(headerBuf: Uint8Array, fileSize: number, file: string): { tensors: TensorInfo[]; metadata: Record<string, string> } {
  const abs = file;
  const size = fileSize;
  const headerLen = headerBuf.length;
  const fail = (why: string): never => {
    throw new SafetensorsError(`${abs} is not a valid safetensors file: ${why}`);
  };
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is implausible (corrupt file?)`);
  if (8 + headerLen > size) fail(`header of ${headerLen} bytes runs past the end of the ${size}-byte file (truncated?)`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(headerBuf.buffer, headerBuf.byteOffset, headerBuf.byteLength).toString('utf8'));
  } catch (e) {
    fail(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = size - dataStart;
  const tensors: TensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || !Object.values(entry).every((v) => typeof v === 'string')) {
        fail('"__metadata__" is not an object of strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`entry "${name}" is not an object`);
    if (!isStDtype(e.dtype)) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(e.dtype)}`);
    const dtype = e.dtype as StDtype;
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== numel * DTYPE_BYTES[dtype]) {
      fail(`tensor "${name}" spans ${end - begin} bytes but ${dtype}[${(shape as number[]).join(', ')}] needs ${numel * DTYPE_BYTES[dtype]}`);
    }
    if (end > dataLen) fail(`tensor "${name}" ends at byte ${end} of a ${dataLen}-byte data section (truncated?)`);
    tensors.push({ name, dtype, shape: [...(shape as number[])], file: abs, offset: dataStart + begin, byteLength: end - begin });
  }
  // Byte ranges may not overlap (two tensors sharing bytes means a damaged header).
  const byStart = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1];
    if (byStart[i].offset < prev.offset + prev.byteLength) fail(`tensors "${prev.name}" and "${byStart[i].name}" overlap in data_offsets`);
  }
  return { tensors, metadata };
}

/** Reads `length` bytes at `position` (both may exceed 2 GiB) into a fresh, 8-byte-aligned buffer. */
export function readBytes(file: string, position: number, length: number): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(length));
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, Math.min(READ_CHUNK, length - done), position + done);
      if (n <= 0) throw new SafetensorsError(`${file}: unexpected end of file at byte ${position + done} (truncated?)`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

function toFloat32(dtype: StDtype, bytes: Uint8Array, name: string): Float32Array {
  const buf = bytes.buffer as ArrayBuffer;
  const o = bytes.byteOffset;
  switch (dtype) {
    case 'F32': return new Float32Array(buf, o, bytes.byteLength / 4);
    case 'F16': return halfToFloat32(new Uint16Array(buf, o, bytes.byteLength / 2));
    case 'BF16': return bf16ToFloat32(new Uint16Array(buf, o, bytes.byteLength / 2));
    case 'F64': return Float32Array.from(new Float64Array(buf, o, bytes.byteLength / 8));
    case 'I32': return Float32Array.from(new Int32Array(buf, o, bytes.byteLength / 4));
    case 'I16': return Float32Array.from(new Int16Array(buf, o, bytes.byteLength / 2));
    case 'I8': return Float32Array.from(new Int8Array(buf, o, bytes.byteLength));
    case 'U8': case 'BOOL': return Float32Array.from(bytes);
    case 'I64': return Float32Array.from(new BigInt64Array(buf, o, bytes.byteLength / 8), (v) => Number(v));
    default: throw new SafetensorsError(`weight "${name}": cannot convert ${dtype as string} to float32`);
  }
}

const DEFAULT_BASE_NAMES = ['diffusion_pytorch_model', 'model'];

export class WeightStore {
  private readonly byName = new Map<string, TensorInfo>();

  private constructor(
    /** What error messages call this store: the folder, or the file list. */
    readonly source: string,
    readonly files: readonly string[],
    tensors: TensorInfo[],
  ) {
    for (const t of tensors) {
      if (this.byName.has(t.name)) {
        throw new SafetensorsError(`weight "${t.name}" appears twice (${this.byName.get(t.name)?.file} and ${t.file})`);
      }
      this.byName.set(t.name, t);
    }
    if (endianness() !== 'LE') throw new SafetensorsError('safetensors reading needs a little-endian machine');
  }

  /**
   * Opens one diffusers component folder (e.g. <model>/unet): `<name>.safetensors`, or `<name>.<variant>.safetensors`,
   * or a sharded `<name>.safetensors.index[.<variant>].json` (also the older `<name>.<variant>.safetensors.index.json`). `variant` e.g. 'fp16'. Throws a clear error if none found.
   */
  static openFolder(dir: string, opts: { variant?: string; baseName?: string } = {}): WeightStore {
    const abs = path.resolve(dir);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new SafetensorsError(`weights folder ${abs} does not exist`);
    const bases = opts.baseName ? [opts.baseName] : DEFAULT_BASE_NAMES;
    const suffix = opts.variant ? `.${opts.variant}.safetensors` : '.safetensors';
    const tried: string[] = [];
    for (const base of bases) {
      const single = path.join(abs, base + suffix);
      tried.push(path.basename(single));
      if (existsSync(single)) return WeightStore.openFiles([single], abs);
      // Sharded: diffusers names a variant's index `<name>.safetensors.index.<variant>.json`; older files used
      // `<name>.<variant>.safetensors.index.json` (and transformers `<name>.safetensors.index.<variant>.json` too).
      const indexes = opts.variant
        ? [path.join(abs, `${base}.safetensors.index.${opts.variant}.json`), single + '.index.json']
        : [single + '.index.json'];
      for (const index of indexes) {
        tried.push(path.basename(index));
        if (existsSync(index)) return WeightStore.openIndex(index, abs);
      }
    }
    const present = readdirSync(abs).filter((f) => f.endsWith('.safetensors') || /\.safetensors\.index(\.[^.]+)?\.json$/.test(f));
    const hint = present.length ? `; the folder has ${present.join(', ')}` : '; the folder has no .safetensors files';
    const variantHint = !opts.variant && present.some((f) => /\.[^.]+\.safetensors/.test(f)) ? ' (pass a variant, e.g. "fp16"?)' : '';
    throw new SafetensorsError(`no weights in ${abs}: looked for ${tried.join(', ')}${hint}${variantHint}`);
  }

  static openFiles(files: string[], source?: string): WeightStore {
    if (files.length === 0) throw new SafetensorsError('WeightStore.openFiles: no files given');
    const abs = files.map((f) => path.resolve(f));
    const tensors = abs.flatMap((f) => readHeader(f).tensors);
    return new WeightStore(source ?? abs.join(', '), abs, tensors);
  }

  /** A sharded checkpoint: `weight_map` names, for each tensor, the shard file (relative to the index) holding it. */
  private static openIndex(indexFile: string, source: string): WeightStore {
    let index: unknown;
    try {
      index = JSON.parse(readFileSync(indexFile, 'utf8'));
    } catch (e) {
      throw new SafetensorsError(`${indexFile}: not valid JSON (${(e as Error).message})`);
    }
    const map = (index as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new SafetensorsError(`${indexFile}: missing "weight_map" object`);
    }
    const entries = Object.entries(map as Record<string, unknown>);
    const shardNames = [...new Set(entries.map(([, f]) => f))];
    for (const f of shardNames) {
      if (typeof f !== 'string') throw new SafetensorsError(`${indexFile}: weight_map values must be file names`);
    }
    const dir = path.dirname(indexFile);
    const shards = (shardNames as string[]).map((f) => path.join(dir, f));
    const store = WeightStore.openFiles(shards, source);
    for (const [name, f] of entries) {
      const t = store.byName.get(name);
      if (!t) throw new SafetensorsError(`${indexFile}: weight "${name}" is not in its shard ${f as string}`);
      if (t.file !== path.join(dir, f as string)) {
        throw new SafetensorsError(`${indexFile}: weight "${name}" is mapped to ${f as string} but lives in ${path.basename(t.file)}`);
      }
    }
    return store;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new SafetensorsError(`weight "${name}" not found in ${this.source}`);
    return t;
  }

  /** The tensor's raw little-endian bytes, in a fresh aligned buffer. */
  readRaw(name: string): Uint8Array {
    const t = this.info(name);
    return readBytes(t.file, t.offset, t.byteLength);
  }

  /** Reads and converts any numeric dtype (F16/BF16/F32 and the integer types) to float32. */
  readFloat32(name: string): Float32Array {
    const t = this.info(name);
    return toFloat32(t.dtype, this.readRaw(name), name);
  }

  /** Content identity for caching compiled graphs: file paths + sizes + mtimes (cheap, no hashing of GBs). */
  identity(): string {
    return JSON.stringify(this.files.map((f) => {
      const s = statSync(f); // follows symlinks: a Hugging Face snapshot link changes identity with its blob
      return [f, s.size, s.mtimeMs];
    }));
  }
}
