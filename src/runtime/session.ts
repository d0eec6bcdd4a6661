/**
 * Runs a Graph on ONNX Runtime (onnxruntime-node 1.30). Facts measured with this build (tests/runtime/, memory-bench.ts):
 *
 * (a) Where external data may live. ORT validates every external-data "location": absolute paths are refused, and so
 *     is any path whose canonical form (symlinks resolved) leaves the allowed folder ("External data path escapes
 *     model directory"). So "../" paths fail, and symlinks inside the model folder fail as soon as they point
 *     elsewhere — Hugging Face snapshot files are symlinks into blobs/, so even a model written next to them is
 *     refused. Hard links work but need one filesystem. What works: the session config entry
 *     `session.model_external_initializers_file_folder_path` replaces the allowed folder, for models loaded from a
 *     file too. We write locations relative to the deepest common folder of the weight files' real paths and give
 *     ORT that folder: nothing is copied or linked; cacheDir/<name>-<hash>/model.onnx holds only the graph.
 * (b) Copy or mmap. ORT memory-maps external data (any offset, also past 4 GiB). MatMul/Gemm/Conv weights are then
 *     pre-packed into heap buffers at session creation and the mapping dropped: 192 MB of fp32 weights → RSS +220 MB
 *     after creation (anon +200 MB), 0.22 s. With `session.disable_prepacking` = '1' the weights stay mapped
 *     (file-backed, evictable pages; anon +12 MB, 0.04 s to create) but Gemm runs ~1.6× slower. Conv weights: at
 *     level 'all' ORT re-lays them out for its NCHWc kernels and keeps ~2.2× their bytes on the heap (206 MB of 3×3
 *     convs → anon +417 MB); at 'extended' or 'basic' they stay mapped (anon +15 MB) and convs run ~25% slower.
 * (c) fp16 stored, float32 compute. At optimization level 'basic' and above the Cast on each initializer is
 *     constant-folded at load: the session holds float32 copies (2× the fp16 file bytes, i.e. the same as fp32-stored
 *     weights; Gemm bench peak 316 MB vs 311 MB for fp32-stored), so fp16 files save disk and load I/O but not RAM on
 *     CPU. Conv bench (103 MB fp16): 'all' anon +430 MB, peak +646 MB; 'extended' anon +257 MB, peak +280 MB. optimization: 'disabled' keeps fp16 mapped (anon +10 MB) and casts on every run (3.5× slower in
 *     the bench). Computing in float16 on an x86 CPU is no help: ORT inserts float32 casts around most kernels
 *     (same RAM, 6–9× slower). On GPUs use computeType 'float16'.
 * (d) Providers: listSupportedBackends() = cpu, webgpu (bundled), cuda, tensorrt (not bundled). CUDA needs the
 *     provider libraries that onnxruntime-node's install script downloads (ONNXRUNTIME_NODE_INSTALL=cuda12, see
 *     checkDevice); WebGPU is in the build but needs a GPU adapter (Vulkan/Metal/D3D12).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { ElemType, Graph } from '../onnx/graph.js';
import { halfToFloat32 } from '../safetensors/half.js';
import type { Tensor } from '../tensor.js';

export type Device = 'cpu' | 'cuda' | 'webgpu';

export interface SessionOptions {
  device?: Device;
  /** Where serialized graphs are kept; default ~/.cache/videoshop/graphs (or $VIDEOSHOP_CACHE/graphs). */
  cacheDir?: string;
  /** Intra-op threads; default: ORT's choice (all physical cores). */
  threads?: number;
  /**
   * ORT graph optimization level, default 'all' (fastest). RAM cost, measured (see the header): 'basic' and above fold
   * the Cast of fp16-stored weights into float32 heap copies (2× the fp16 bytes); 'all' also re-lays Conv weights out
   * for NCHWc kernels (~2.2× their float32 bytes on the heap, convs ~25% faster); 'extended' leaves fp32-stored Conv
   * weights memory-mapped; 'disabled' also keeps fp16 weights mapped but casts them on every run (slow).
   */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Extra ORT session config entries, e.g. { 'session.disable_prepacking': '1' }. */
  config?: Record<string, string>;
  /** ORT log severity (0 verbose … 4 fatal), default 3 (errors only). */
  logSeverity?: 0 | 1 | 2 | 3 | 4;
  /** ORT's profiler on: a Chrome-trace JSON per session, named from this prefix, written by `endProfiling` (benchmarks). */
  profilePrefix?: string;
}

export type Feed = Tensor | {
  data: Float32Array | BigInt64Array | Uint16Array | Int32Array | Uint8Array;
  dims: readonly number[];
  type: ElemType;
};

export function defaultCacheDir(): string {
  const base = process.env.VIDEOSHOP_CACHE ?? path.join(homedir(), '.cache', 'videoshop');
  return path.join(base, 'graphs');
}

/** The deepest folder containing every file (all real paths; on Windows they must share a drive). */
function commonFolder(files: string[]): string {
  let common = path.dirname(files[0]);
  for (const f of files.slice(1)) {
    const outside = (rel: string) => rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
    while (outside(path.relative(common, f))) {
      const up = path.dirname(common);
      if (up === common) throw new Error(`weight files ${files[0]} and ${f} share no folder (different drives?)`);
      common = up;
    }
  }
  return common;
}

function ortPackageDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('onnxruntime-node/package.json'));
}

/** Checks up front that the build can run `device`, and says what to install when it cannot. */
export function checkDevice(device: Device): void {
  if (device === 'cpu') return;
  const backends = ort.listSupportedBackends();
  const entry = backends.find((b) => b.name === device);
  if (!entry) {
    throw new Error(`ONNX Runtime execution provider "${device}" is not in this onnxruntime-node build for ` +
      `${process.platform}/${process.arch} (it has: ${backends.map((b) => b.name).join(', ')}); run on the CPU instead`);
  }
  if (device === 'cuda') {
    const lib = path.join(ortPackageDir(), 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
    if (!existsSync(lib)) {
      throw new Error('CUDA execution provider is not installed: run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` ' +
        '(downloads the CUDA 12 provider libraries; also needs CUDA 12 + cuDNN 9 runtime libraries on the library path)');
    }
  }
}

export function explainDeviceFailure(device: Device, e: unknown): Error {
  // ORT prefixes its messages with a source location and the failed check; keep the human part.
  const msg = ((e as Error).message ?? String(e)).split('\n')[0].replace(/^.*? was false\. /, '');
  if (device === 'cuda') {
    return new Error(`could not start the CUDA execution provider (${msg}); it needs an NVIDIA driver, CUDA 12 and cuDNN 9 ` +
      'libraries on LD_LIBRARY_PATH, and the provider from `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`');
  }
  if (device === 'webgpu' && /requires f16/.test(msg)) {
    return new Error(`this GPU's WebGPU adapter has no float16 shaders (${msg}); compute in float32 instead (dtype float32)`);
  }
  if (device === 'webgpu') {
    return new Error(`could not start the WebGPU execution provider (${msg}); it needs a GPU with Vulkan (Linux), Metal (macOS) ` +
      'or D3D12 (Windows) drivers; run on the CPU otherwise');
  }
  return e as Error;
}

const TYPE_TO_ORT: Record<ElemType, ort.Tensor.Type> = {
  float32: 'float32', float16: 'float16', int64: 'int64', int32: 'int32', bool: 'bool',
};

function toOrt(name: string, f: Feed): ort.Tensor {
  const type = 'type' in f ? TYPE_TO_ORT[f.type] : 'float32';
  const n = f.dims.reduce((a, b) => a * b, 1);
  if (f.data.length !== n) throw new Error(`input "${name}": ${f.data.length} values for shape [${f.dims.join(', ')}]`);
  return new ort.Tensor(type, f.data as ort.Tensor.DataType, [...f.dims]);
}

function fromOrt(name: string, t: ort.Tensor): Tensor {
  const dims = [...t.dims];
  const data = t.data;
  switch (t.type) {
    case 'float32': return { data: data as Float32Array, dims };
    case 'float16': return { data: halfToFloat32(data as Uint16Array), dims };
    case 'int64': return { data: Float32Array.from(data as BigInt64Array, (v) => Number(v)), dims };
    case 'int32': case 'bool': case 'uint8': case 'int8': case 'float64':
      return { data: Float32Array.from(data as ArrayLike<number>), dims };
    default: throw new Error(`output "${name}" has type ${t.type}, which ModelSession cannot return`);
  }
}

export class ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  private constructor(
    private readonly session: ort.InferenceSession,
    /** The .onnx file this session was loaded from. */
    readonly modelPath: string,
    readonly device: Device,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  /**
   * Serializes the graph into cacheDir (keyed by a hash of graph bytes + weights identity, reused when present) and
   * opens an ONNX Runtime session on it.
   */
  static async create(graph: Graph, opts: SessionOptions = {}): Promise<ModelSession> {
    const device = opts.device ?? 'cpu';
    checkDevice(device);
    const real = new Map(graph.weightFiles().map((f) => [f, realpathSync(f)]));
    const weightRoot = real.size ? commonFolder([...real.values()]) : undefined;
    const locate = (f: string): string => {
      const r = real.get(f);
      if (!r || !weightRoot) throw new Error(`ModelSession: weight file ${f} was not registered`);
      return path.relative(weightRoot, r).split(path.sep).join('/');
    };
    const bytes = graph.serialize(weightRoot ?? '.', { locate });
    const hash = createHash('sha256').update(bytes).update(graph.weights?.identity() ?? '').digest('hex').slice(0, 20);
    const dir = path.join(opts.cacheDir ?? defaultCacheDir(), `${graph.name.replace(/[^\w.-]/g, '_')}-${hash}`);
    const modelPath = path.join(dir, 'model.onnx');
    if (!existsSync(modelPath)) {
      mkdirSync(dir, { recursive: true });
      const tmp = `${modelPath}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, modelPath);
    }

    const config: Record<string, string> = { ...opts.config };
    if (weightRoot) config['session.model_external_initializers_file_folder_path'] = weightRoot;
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [device],
      graphOptimizationLevel: opts.optimization ?? 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      logSeverityLevel: opts.logSeverity ?? 3,
      extra: nest(config),
    };
    if (opts.threads) options.intraOpNumThreads = opts.threads;
    if (opts.profilePrefix) Object.assign(options, { enableProfiling: true, profileFilePrefix: opts.profilePrefix });
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, options);
    } catch (e) {
      throw device === 'cpu' ? new Error(`ONNX Runtime could not load graph "${graph.name}" (${modelPath}): ${(e as Error).message}`)
        : explainDeviceFailure(device, e);
    }
    return new ModelSession(session, modelPath, device);
  }

  async run(feeds: Record<string, Feed>): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const f = feeds[name];
      if (!f) throw new Error(`ModelSession.run: missing input "${name}" (inputs: ${this.inputNames.join(', ')})`);
      ortFeeds[name] = toOrt(name, f);
    }
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) throw new Error(`ModelSession.run: unknown input "${name}" (inputs: ${this.inputNames.join(', ')})`);
    }
    const t = performance.now();
    const results = await this.session.run(ortFeeds);
    runtimeStats.runs++;
    runtimeStats.runMs += performance.now() - t;
    const out: Record<string, Tensor> = {};
    for (const name of this.outputNames) out[name] = fromOrt(name, results[name]);
    return out;
  }

  /** Ends ORT's profiler (a session made with `profilePrefix`): the trace file is written. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Time spent inside ONNX Runtime's `run` across all sessions of this process, so benchmarks can report the share of
 * wall time spent outside the networks (our own JS: scheduler math, conversions, I/O glue).
 */
export const runtimeStats = { runs: 0, runMs: 0 };

/** ORT's node binding takes config entries as nested objects: { session: { x: '1' } } → "session.x" = "1". */
function nest(flat: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = value;
  }
  return out;
}
