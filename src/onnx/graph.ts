/**
 * Builds ONNX graphs in code. Weights are never copied: each one becomes an initializer whose bytes ONNX Runtime reads
 * straight out of the .safetensors file (external data); a Cast follows when the stored dtype is not the compute type.
 */
import path from 'node:path';
import type { StDtype, WeightStore } from '../safetensors/read.js';
import { float32ToHalf } from '../safetensors/half.js';
import { AttrType, DataType, encodeModel, type AttributeMsg, type NodeMsg, type TensorMsg, type ValueInfoMsg } from './proto.js';

export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

export interface Value {
  readonly name: string;
}

/** Plain numbers: integer → INT, else FLOAT (use `{ float: 1 }` for an integral float); arrays likewise. */
export type Attr = number | number[] | string | { float: number } | { floats: number[] };

export const OPSET = 17;
export const MS_OPSET = 1;
/** IR version 8 is the one that goes with opset 17. */
const IR_VERSION = 8;

export const ELEM_TYPES: Record<ElemType, number> = {
  float32: DataType.FLOAT, float16: DataType.FLOAT16, int64: DataType.INT64, int32: DataType.INT32, bool: DataType.BOOL,
};

const ST_TO_ONNX: Record<StDtype, number> = {
  F32: DataType.FLOAT, F16: DataType.FLOAT16, BF16: DataType.BFLOAT16, F64: DataType.DOUBLE, I64: DataType.INT64,
  I32: DataType.INT32, I16: DataType.INT16, I8: DataType.INT8, U8: DataType.UINT8, BOOL: DataType.BOOL,
};
const FLOAT_DTYPES: readonly StDtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** Options for `serialize`. */
export interface SerializeOptions {
  /**
   * The external-data "location" for a weight file (absolute path) — by default its path relative to modelDir.
   * ModelSession uses it to point at links inside the model folder, because ONNX Runtime refuses locations outside it.
   */
  locate?: (file: string) => string;
  /** Extra ModelProto.metadata_props. */
  metadata?: Record<string, string>;
}

function attrMsg(name: string, a: Attr): AttributeMsg {
  if (typeof a === 'string') return { name, type: AttrType.STRING, s: a };
  if (typeof a === 'number') {
    return Number.isInteger(a) ? { name, type: AttrType.INT, i: a } : { name, type: AttrType.FLOAT, f: a };
  }
  if (Array.isArray(a)) {
    return a.every(Number.isInteger) ? { name, type: AttrType.INTS, ints: a } : { name, type: AttrType.FLOATS, floats: a };
  }
  if ('float' in a) return { name, type: AttrType.FLOAT, f: a.float };
  return { name, type: AttrType.FLOATS, floats: a.floats };
}

interface WeightInit {
  name: string;
  file: string;
  offset: number;
  length: number;
  dims: number[];
  dataType: number;
}

export class Graph {
  readonly name: string;
  readonly weights: WeightStore | undefined;
  readonly computeType: 'float32' | 'float16';
  private readonly nodes: NodeMsg[] = [];
  private readonly inline: TensorMsg[] = [];
  private readonly external: WeightInit[] = [];
  private readonly inputs: ValueInfoMsg[] = [];
  private readonly outputs: ValueInfoMsg[] = [];
  /** Every value name defined so far (inputs, initializers, node outputs). */
  private readonly defined = new Set<string>();
  private readonly weightValues = new Map<string, Value>();
  private readonly smallConstants = new Map<string, Value>();
  private counter = 0;

  constructor(opts: { name: string; weights?: WeightStore; computeType?: 'float32' | 'float16' }) {
    this.name = opts.name;
    this.weights = opts.weights;
    this.computeType = opts.computeType ?? 'float32';
  }

  /** A fresh name no weight, input or earlier value uses. Generated names start with "/" (weights never do). */
  private fresh(base: string): string {
    let name: string;
    do name = `/${base}_${this.counter++}`;
    while (this.defined.has(name));
    return name;
  }

  private define(name: string): Value {
    if (this.defined.has(name)) throw new Error(`graph ${this.name}: value "${name}" defined twice`);
    this.defined.add(name);
    return { name };
  }

  private check(v: Value | undefined, where: string): string {
    if (v === undefined) return '';
    if (!this.defined.has(v.name)) throw new Error(`graph ${this.name}: ${where} uses "${v.name}", which is not a value of this graph`);
    return v.name;
  }

  input(name: string, type: ElemType, shape: (number | string)[]): Value {
    const v = this.define(name);
    this.inputs.push({ name, elemType: ELEM_TYPES[type], shape });
    return v;
  }

  output(value: Value, name: string, type: ElemType, shape: (number | string)[]): void {
    this.check(value, `output ${name}`);
    if (this.outputs.some((o) => o.name === name)) throw new Error(`graph ${this.name}: output "${name}" declared twice`);
    // A graph input or an initializer cannot double as an output name, and a value may feed two outputs: rename by Identity.
    const isNodeOutput = this.nodes.some((n) => n.outputs.includes(value.name));
    if (value.name !== name || !isNodeOutput) {
      this.define(name);
      this.nodes.push({ inputs: [value.name], outputs: [name], name: this.fresh('Identity'), opType: 'Identity' });
    }
    this.outputs.push({ name, elemType: ELEM_TYPES[type], shape });
  }

  private store(): WeightStore {
    if (!this.weights) throw new Error(`graph ${this.name}: no WeightStore was given, so it has no weights`);
    return this.weights;
  }

  hasWeight(name: string): boolean {
    return this.weights?.has(name) ?? false;
  }

  weightShape(name: string): number[] {
    return [...this.store().info(name).shape];
  }

  /**
   * An initializer stored as ONNX external data pointing straight into the safetensors file (no copy), cast to the
   * compute type when the stored float dtype differs. Asking twice for one weight gives the same value.
   */
  weight(name: string, expectShape?: number[]): Value {
    const info = this.store().info(name);
    if (expectShape && (expectShape.length !== info.shape.length || expectShape.some((d, i) => d !== info.shape[i]))) {
      throw new Error(`weight "${name}" has shape [${info.shape.join(', ')}], expected [${expectShape.join(', ')}]`);
    }
    const known = this.weightValues.get(name);
    if (known) return known;
    const raw = this.define(name);
    this.external.push({
      name, file: info.file, offset: info.offset, length: info.byteLength, dims: info.shape, dataType: ST_TO_ONNX[info.dtype],
    });
    let v = raw;
    const computeDtype: StDtype = this.computeType === 'float16' ? 'F16' : 'F32';
    if (FLOAT_DTYPES.includes(info.dtype) && info.dtype !== computeDtype) {
      v = this.op('Cast', [raw], { to: ELEM_TYPES[this.computeType] });
    }
    this.weightValues.set(name, v);
    return v;
  }

  /**
   * A small constant embedded in the graph. Without `type` it is a float tensor of the compute type (so it can meet
   * activations in Add/Mul); 'float32' forces float32. Tiny constants are shared.
   */
  constant(values: ArrayLike<number>, dims: number[], type?: 'float32' | 'float16' | 'int64' | 'int32'): Value {
    const n = dims.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`constant: ${values.length} values for shape [${dims.join(', ')}]`);
    const t = type ?? this.computeType;
    const key = n <= 16 ? `${t}[${dims.join(',')}]:${Array.from(values).join(',')}` : undefined;
    const shared = key && this.smallConstants.get(key);
    if (shared) return shared;
    let raw: Uint8Array;
    if (t === 'int64') {
      raw = new Uint8Array(BigInt64Array.from(Array.from(values), (x) => {
        if (!Number.isSafeInteger(x)) throw new Error(`constant: int64 value ${x} is not an integer`);
        return BigInt(x);
      }).buffer);
    } else if (t === 'int32') raw = new Uint8Array(Int32Array.from(values).buffer);
    else if (t === 'float16') raw = new Uint8Array(float32ToHalf(values).buffer);
    else raw = new Uint8Array(Float32Array.from(values).buffer);
    const name = this.fresh('const');
    const v = this.define(name);
    this.inline.push({ name, dims, dataType: ELEM_TYPES[t], rawData: raw });
    if (key) this.smallConstants.set(key, v);
    return v;
  }

  op(opType: string, inputs: (Value | undefined)[], attrs?: Record<string, Attr>, opts?: { domain?: string }): Value {
    return this.opMulti(opType, inputs, 1, attrs, opts)[0];
  }

  opMulti(opType: string, inputs: (Value | undefined)[], numOutputs: number, attrs?: Record<string, Attr>,
    opts?: { domain?: string }): Value[] {
    const names = inputs.map((v) => this.check(v, opType));
    while (names.length && names[names.length - 1] === '') names.pop(); // trailing optional inputs may be omitted
    const nodeName = this.fresh(opType);
    const outs = Array.from({ length: numOutputs }, (_, i) => this.define(numOutputs === 1 ? nodeName : `${nodeName}:${i}`));
    const attributes = Object.entries(attrs ?? {}).map(([k, a]) => attrMsg(k, a));
    this.nodes.push({ inputs: names, outputs: outs.map((o) => o.name), name: nodeName, opType, domain: opts?.domain, attributes });
    return outs;
  }

  /** Node count, for tests and logs. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The safetensors files the initializers point into. */
  weightFiles(): string[] {
    return [...new Set(this.external.map((w) => w.file))];
  }

  /**
   * Serialized ModelProto (opset 17 for the default domain, + com.microsoft 1). External-data locations are written
   * relative to `modelDir` (the folder the .onnx file will live in), or as `opts.locate` says.
   */
  serialize(modelDir: string, opts: SerializeOptions = {}): Uint8Array {
    if (this.outputs.length === 0) throw new Error(`graph ${this.name}: no outputs declared`);
    const locate = opts.locate ?? ((file: string) => path.relative(modelDir, file).split(path.sep).join('/'));
    const initializers: TensorMsg[] = [
      ...this.inline,
      ...this.external.map((w): TensorMsg => ({
        name: w.name, dims: w.dims, dataType: w.dataType, external: { location: locate(w.file), offset: w.offset, length: w.length },
      })),
    ];
    return encodeModel({
      irVersion: IR_VERSION,
      opsetImports: [{ domain: '', version: OPSET }, { domain: 'com.microsoft', version: MS_OPSET }],
      producerName: 'videoshop',
      graph: { name: this.name, nodes: this.nodes, initializers, inputs: this.inputs, outputs: this.outputs },
      metadata: opts.metadata,
    });
  }
}
