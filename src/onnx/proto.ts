/**
 * A minimal protobuf writer for the ONNX messages we emit (field numbers from onnx/onnx.proto). Write-only: ONNX Runtime
 * is the only reader. Repeated scalars follow onnx.proto's proto2 declarations: packed only where it says
 * [packed = true] (TensorProto's *_data); dims, ints and floats are written unpacked like the reference serializer.
 */

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11,
  UINT32: 12, UINT64: 13, BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface ExternalData {
  /** POSIX path relative to the folder of the .onnx file. */
  location: string;
  offset: number;
  length: number;
}

export interface TensorMsg {
  name: string;
  dims: readonly number[];
  dataType: number;
  /** Little-endian element bytes stored inside the model. */
  rawData?: Uint8Array;
  /** Or: the bytes live in another file (data_location = EXTERNAL). */
  external?: ExternalData;
}

export interface AttributeMsg {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: TensorMsg;
  floats?: readonly number[];
  ints?: readonly number[];
  strings?: readonly string[];
}

export interface NodeMsg {
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  opType: string;
  domain?: string;
  attributes?: readonly AttributeMsg[];
}

export interface ValueInfoMsg {
  name: string;
  elemType: number;
  /** Numbers are fixed sizes, strings are symbolic (dynamic) dimensions. */
  shape: readonly (number | string)[];
}

export interface GraphMsg {
  name: string;
  nodes: readonly NodeMsg[];
  initializers: readonly TensorMsg[];
  inputs: readonly ValueInfoMsg[];
  outputs: readonly ValueInfoMsg[];
}

export interface ModelMsg {
  irVersion: number;
  opsetImports: readonly { domain: string; version: number }[];
  producerName: string;
  producerVersion?: string;
  graph: GraphMsg;
  metadata?: Readonly<Record<string, string>>;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Append-only byte buffer that grows by doubling. */
class ByteSink {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** int64/uint64 varint; negatives are written as 10-byte two's complement like protobuf's int64. */
  varint(n: number): void {
    if (!Number.isSafeInteger(n)) throw new Error(`protobuf: ${n} is not a safe integer`);
    if (n < 0) {
      let v = BigInt.asUintN(64, BigInt(n));
      while (v >= 0x80n) {
        this.byte(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.byte(Number(v));
      return;
    }
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  float32(x: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, x, true);
    this.length += 4;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Message writer: fields in any order; nested messages are encoded first, then copied in with their length. */
class Msg {
  readonly out = new ByteSink();

  private tag(field: number, wire: number): void {
    this.out.varint(field * 8 + wire);
  }

  int(field: number, v: number | undefined): this {
    if (v === undefined) return this;
    this.tag(field, WIRE_VARINT);
    this.out.varint(v);
    return this;
  }

  ints(field: number, vs: readonly number[] | undefined): this {
    for (const v of vs ?? []) this.int(field, v);
    return this;
  }

  float(field: number, v: number | undefined): this {
    if (v === undefined) return this;
    this.tag(field, WIRE_FIXED32);
    this.out.float32(v);
    return this;
  }

  floats(field: number, vs: readonly number[] | undefined): this {
    for (const v of vs ?? []) this.float(field, v);
    return this;
  }

  bytes(field: number, b: Uint8Array | undefined): this {
    if (b === undefined) return this;
    this.tag(field, WIRE_LEN);
    this.out.varint(b.length);
    this.out.bytes(b);
    return this;
  }

  string(field: number, s: string | undefined): this {
    return s === undefined ? this : this.bytes(field, utf8.encode(s));
  }

  strings(field: number, ss: readonly string[] | undefined): this {
    for (const s of ss ?? []) this.string(field, s);
    return this;
  }

  msg(field: number, m: Msg | undefined): this {
    return m === undefined ? this : this.bytes(field, m.out.result());
  }

  msgs<T>(field: number, items: readonly T[] | undefined, encode: (item: T) => Msg): this {
    for (const item of items ?? []) this.msg(field, encode(item));
    return this;
  }
}

function stringEntry(key: string, value: string): Msg {
  return new Msg().string(1, key).string(2, value);
}

export function tensorProto(t: TensorMsg): Msg {
  const m = new Msg().ints(1, t.dims).int(2, t.dataType).string(8, t.name);
  if (t.rawData && t.external) throw new Error(`tensor ${t.name}: both inline and external data`);
  m.bytes(9, t.rawData);
  if (t.external) {
    const e = t.external;
    m.msgs(13, [['location', e.location], ['offset', String(e.offset)], ['length', String(e.length)]] as const,
      ([k, v]) => stringEntry(k, v));
    m.int(14, 1); // DataLocation.EXTERNAL
  }
  return m;
}

function attributeProto(a: AttributeMsg): Msg {
  const m = new Msg().string(1, a.name).int(20, a.type);
  m.float(2, a.f).int(3, a.i).string(4, a.s).msg(5, a.t && tensorProto(a.t));
  return m.floats(7, a.floats).ints(8, a.ints).strings(9, a.strings);
}

function nodeProto(n: NodeMsg): Msg {
  return new Msg().strings(1, n.inputs).strings(2, n.outputs).string(3, n.name).string(4, n.opType)
    .msgs(5, n.attributes, attributeProto).string(7, n.domain || undefined);
}

function valueInfoProto(v: ValueInfoMsg): Msg {
  // ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: Tensor{elem_type=1, shape=2: TensorShapeProto{dim=1}}}}
  const shape = new Msg().msgs(1, v.shape, (d) => (typeof d === 'number' ? new Msg().int(1, d) : new Msg().string(2, d)));
  const tensorType = new Msg().int(1, v.elemType).msg(2, shape);
  return new Msg().string(1, v.name).msg(2, new Msg().msg(1, tensorType));
}

function graphProto(g: GraphMsg): Msg {
  return new Msg().msgs(1, g.nodes, nodeProto).string(2, g.name).msgs(5, g.initializers, tensorProto)
    .msgs(11, g.inputs, valueInfoProto).msgs(12, g.outputs, valueInfoProto);
}

export function encodeModel(model: ModelMsg): Uint8Array {
  const m = new Msg().int(1, model.irVersion).string(2, model.producerName).string(3, model.producerVersion)
    .msg(7, graphProto(model.graph))
    .msgs(8, model.opsetImports, (o) => new Msg().string(1, o.domain).int(2, o.version))
    .msgs(14, Object.entries(model.metadata ?? {}), ([k, v]) => stringEntry(k, v));
  return m.out.result();
}

/** Exposed for tests: the raw encoding of one varint. */
export function encodeVarint(n: number): Uint8Array {
  const s = new ByteSink();
  s.varint(n);
  return s.result();
}
