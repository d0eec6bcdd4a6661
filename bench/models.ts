/**
 * Full-size numbers for SVD's three networks (UNet, VAE encoder/decoder, CLIP image encoder) on ONNX Runtime, next
 * to diffusers/transformers on the same weights. See bench/README.md for what each number means and results.
 *
 *   npm run bench:models -- --json            # one JSON object on stdout, a human summary on stderr
 *
 * The real config.json files get random weights written by our safetensors writer into a temp folder (deleted at the
 * end unless --keep), in both the fp16 variant people download and fp32. Values are rounded to float16 before
 * either file is written, so both files hold the same numbers and one torch run is the reference for all.
 * Every measurement runs in a fresh child process (so VmHWM, the peak RSS, belongs to it alone), one at a time,
 * under a watchdog that kills it when the machine's MemAvailable falls below --min-free-gb.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { readClipVisionConfig } from '../src/models/clip/config.js';
import { buildClipGraph, CLIP_INPUT, CLIP_OUTPUT } from '../src/models/clip/graph.js';
import { clipWeightShapes } from '../src/models/clip/weights.js';
import { parseClipVisionConfig } from '../src/models/clip/config.js';
import { DEFAULT_ATTENTION } from '../src/models/load-options.js';
import { parseUnetConfig, readUnetConfig } from '../src/models/unet/config.js';
import { buildUnetGraph, UNET_OUTPUT } from '../src/models/unet/graph.js';
import { unetWeightShapes } from '../src/models/unet/weights.js';
import { parseVaeConfig, readVaeConfig } from '../src/models/vae/config.js';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../src/models/vae/graph.js';
import { vaeWeightShapes } from '../src/models/vae/weights.js';
import type { Graph } from '../src/onnx/graph.js';
import { Random } from '../src/random.js';
import { ModelSession, type Device, type Feed } from '../src/runtime/session.js';
import { float32ToHalf, halfToFloat32 } from '../src/safetensors/half.js';
import { WeightStore } from '../src/safetensors/read.js';
import { writeSafetensors, type TensorToWrite } from '../src/safetensors/write.js';
import { median, round } from './pipeline/stats.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_CONFIGS = path.resolve(REPO, 'configs', 'stable-video-diffusion-img2vid');
const PYTHON = path.join(REPO, 'tests', 'oracle', '.venv', 'bin', 'python');
const TORCH_SCRIPT = path.join(REPO, 'tests', 'oracle', 'bench_forward.py');
const RESULT_TAG = 'BENCH_RESULT ';
const GB = 2 ** 30;
const MB = 2 ** 20;

type Network = 'unet' | 'vae' | 'clip';
type GraphName = 'unet' | 'vae_encoder' | 'vae_decoder' | 'clip';
type Variant = 'fp16' | 'fp32';
type Level = 'all' | 'extended' | 'basic' | 'disabled';
type Compute = 'float32' | 'float16';

const NETWORKS: readonly Network[] = ['vae', 'clip', 'unet']; // small first: a memory failure then costs least
const GRAPHS: Record<Network, GraphName[]> = { unet: ['unet'], vae: ['vae_encoder', 'vae_decoder'], clip: ['clip'] };
/** Component folder and safetensors base name in the diffusers layout. */
const COMPONENT: Record<Network, { folder: string; base: string }> = {
  unet: { folder: 'unet', base: 'diffusion_pytorch_model' },
  vae: { folder: 'vae', base: 'diffusion_pytorch_model' },
  clip: { folder: 'image_encoder', base: 'model' },
};

// ---------------------------------------------------------------------------------------------------------------
// Options

interface Options {
  configs: string;
  tmp?: string;
  keep: boolean;
  json: boolean;
  networks: Network[];
  variants: Variant[];
  levels: Level[];
  device: Device;
  compute: Compute;
  threads: number;
  repeats: number;
  warmup: number;
  frames: number;
  latent: number;
  minFreeGb: number;
  shardMb: number;
  torch: boolean;
  seed: number;
  childTimeoutS: number;
}

const USAGE = `usage: node --import tsx bench/models.ts [options]   (npm run bench:models -- --json)
  --json                 print one JSON object on stdout (the human summary goes to stderr)
  --configs DIR          diffusers SVD folder with unet/ vae/ image_encoder/ config.json
                         (default ${path.relative(process.cwd(), DEFAULT_CONFIGS) || DEFAULT_CONFIGS})
  --tmp DIR              where random weights and graphs go (default: a fresh folder under ${os.tmpdir()});
                         a folder a previous --keep run left with the same configs and seed is reused
  --keep                 keep that folder (default: deleted at the end)
  --networks LIST        unet,vae,clip (default all three)
  --weights LIST         fp16,fp32: which weight files sessions load (default both)
  --levels LIST          ONNX Runtime optimization levels: all,extended,basic,disabled (default all,extended)
  --device D             cpu (default), cuda or webgpu; torch uses cuda for cuda
  --compute T            float32 (default) or float16 (for GPUs)
  --threads N            ORT intra-op threads and torch.set_num_threads (default 2)
  --repeats N            timed runs per forward, median reported (default 3), after --warmup N (default 1);
                         for an even N the median is the mean of the middle two
  --frames N --latent N  UNet forward size: frames and latent side (default 4 and 16, i.e. 128×128 pixels)
  --min-free-gb X        kill a step when MemAvailable falls below X GiB, skip it when its estimate does not fit (default 2.5)
  --shard-mb N           largest safetensors shard, in float32 MiB held while writing (default 1024)
  --no-torch             skip the diffusers/transformers comparison
  --seed N               weights and inputs (default 0)
  --child-timeout S      per-step time limit in seconds (default 1800)`;

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean' }, keep: { type: 'boolean' }, 'no-torch': { type: 'boolean' },
        configs: { type: 'string' }, tmp: { type: 'string' }, networks: { type: 'string' }, weights: { type: 'string' },
        levels: { type: 'string' }, device: { type: 'string' }, compute: { type: 'string' }, threads: { type: 'string' },
        repeats: { type: 'string' }, warmup: { type: 'string' }, frames: { type: 'string' }, latent: { type: 'string' },
        'min-free-gb': { type: 'string' }, 'shard-mb': { type: 'string' }, seed: { type: 'string' },
        'child-timeout': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${USAGE}`, { cause: e });
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const list = <T extends string>(flag: string, value: string, allowed: readonly T[]): T[] => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    for (const i of items) if (!allowed.includes(i as T)) throw new Error(`--${flag}: "${i}" is not one of ${allowed.join(', ')}`);
    return items as T[];
  };
  const int = (flag: string, value: string | undefined, fallback: number, min = 0): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag}: expected an integer ≥ ${min}, got "${value}"`);
    return n;
  };
  const o: Options = {
    configs: v.configs === undefined ? DEFAULT_CONFIGS : path.resolve(v.configs),
    tmp: v.tmp === undefined ? undefined : path.resolve(v.tmp),
    keep: v.keep ?? false,
    json: v.json ?? false,
    networks: v.networks === undefined ? [...NETWORKS] : list('networks', v.networks, NETWORKS),
    variants: v.weights === undefined ? ['fp16', 'fp32'] : list('weights', v.weights, ['fp16', 'fp32'] as const),
    levels: v.levels === undefined ? ['all', 'extended']
      : list('levels', v.levels, ['all', 'extended', 'basic', 'disabled'] as const),
    device: v.device === undefined ? 'cpu' : list('device', v.device, ['cpu', 'cuda', 'webgpu'] as const)[0],
    compute: v.compute === undefined ? 'float32' : list('compute', v.compute, ['float32', 'float16'] as const)[0],
    threads: int('threads', v.threads, 2, 1),
    repeats: int('repeats', v.repeats, 3, 1),
    warmup: int('warmup', v.warmup, 1),
    frames: int('frames', v.frames, 4, 1),
    latent: int('latent', v.latent, 16, 1),
    minFreeGb: v['min-free-gb'] === undefined ? 2.5 : Number(v['min-free-gb']),
    shardMb: int('shard-mb', v['shard-mb'], 1024, 1),
    torch: !v['no-torch'],
    seed: int('seed', v.seed, 0),
    childTimeoutS: int('child-timeout', v['child-timeout'], 1800, 1),
  };
  if (!Number.isFinite(o.minFreeGb) || o.minFreeGb < 0) throw new Error('--min-free-gb must be a number ≥ 0');
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// Memory readings

interface Rss {
  /** VmRSS: resident now (anonymous + file-backed, e.g. memory-mapped weights). */
  rss: number;
  /** RssAnon: heap and other private memory. */
  anon: number;
  /** RssFile: resident pages of mapped files (evictable page cache). */
  file: number;
  /** VmHWM: the process's peak VmRSS so far. */
  peak: number;
}

function procStatus(pid: number | 'self' = 'self'): Rss | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), peak: kb('VmHWM') };
}

/** What `free` calls "available": memory the kernel can hand out without swapping. */
function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : os.freemem();
}

const gb = (bytes: number | undefined) => (bytes === undefined || !Number.isFinite(bytes) ? '—' : (bytes / GB).toFixed(2));
const log = (msg: string) => process.stderr.write(`[bench:models] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Random weights, written by our writer

const POOL = 1 << 22;

interface WeightFiles {
  parameters: number;
  float32Bytes: number;
  /** Bytes on disk and file count per variant. */
  disk: Partial<Record<Variant, { bytes: number; files: number }>>;
  writeMs: number;
}

function weightShapes(network: Network, configs: Record<Network, unknown>): { name: string; shape: number[] }[] {
  switch (network) {
    case 'unet': return unetWeightShapes(parseUnetConfig(configs.unet));
    case 'vae': return vaeWeightShapes(parseVaeConfig(configs.vae));
    case 'clip': return clipWeightShapes(parseClipVisionConfig(configs.clip));
  }
}

/**
 * One tensor's values, scaled like models/tiny.ts randomWeights (kernels N(0, 1/fan_in), norm scales 1 + N(0, 0.1²),
 * other vectors N(0, 0.05²)) and rounded to float16. Drawing 2 G fresh normals takes minutes, so each tensor reads a
 * shared pool of normals from a random start with a random odd stride (POOL is a power of two: every index is hit).
 */
function tensorValues(name: string, shape: number[], pool: Float32Array, rng: Random): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const isNorm = /norm/.test(name) && name.endsWith('.weight') && shape.length === 1;
  const scale = shape.length >= 2 ? 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)) : isNorm ? 0.1 : 0.05;
  const base = isNorm ? 1 : 0;
  const data = new Float32Array(n);
  let k = rng.next32() & (POOL - 1);
  const stride = (rng.next32() | 1) & (POOL - 1);
  for (let i = 0; i < n; i++) {
    data[i] = base + scale * pool[k];
    k = (k + stride) & (POOL - 1);
  }
  return halfToFloat32(float32ToHalf(data), data);
}

/**
 * Writes one component's weights in the requested variants: `<base>.safetensors` / `<base>.fp16.safetensors`, or,
 * above `shardBytes` of float32, shards plus the index files diffusers and transformers read
 * (`<base>.safetensors.index.json`, `<base>.safetensors.index.fp16.json`). Shards keep what writeSafetensors holds
 * in memory bounded (it takes whole tensors: a single 6 GB UNet file would need 6 GB of arrays plus the fp16 copy).
 */
function writeComponent(dir: string, base: string, shapes: { name: string; shape: number[] }[], variants: Variant[],
  shardBytes: number, pool: Float32Array, rng: Random): WeightFiles['disk'] {
  const shards: { name: string; shape: number[] }[][] = [[]];
  let size = 0;
  for (const s of shapes) {
    const bytes = 4 * s.shape.reduce((a, b) => a * b, 1);
    if (size > 0 && size + bytes > shardBytes) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(s);
    size += bytes;
  }
  const n = shards.length;
  const pad = (i: number) => String(i).padStart(5, '0');
  const fileName = (v: Variant, i: number) => {
    const stem = v === 'fp16' ? `${base}.fp16` : base;
    return n === 1 ? `${stem}.safetensors` : `${stem}-${pad(i + 1)}-of-${pad(n)}.safetensors`;
  };
  const maps: Record<Variant, Record<string, string>> = { fp16: {}, fp32: {} };
  const meta = { format: 'pt', created_by: 'videoshop bench/models.ts (random weights)' };
  shards.forEach((shard, i) => {
    const tensors = shard.map(({ name, shape }) => ({ name, shape, data: tensorValues(name, shape, pool, rng) }));
    for (const v of variants) {
      const dtype: TensorToWrite['dtype'] = v === 'fp16' ? 'F16' : 'F32';
      writeSafetensors(path.join(dir, fileName(v, i)), tensors.map((t) => ({ ...t, dtype })), meta);
      for (const t of shard) maps[v][t.name] = fileName(v, i);
    }
  });
  const disk: WeightFiles['disk'] = {};
  for (const v of variants) {
    const files = [...new Set(Object.values(maps[v]))];
    const bytes = files.reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
    if (n > 1) {
      const index = v === 'fp16' ? `${base}.safetensors.index.fp16.json` : `${base}.safetensors.index.json`;
      writeFileSync(path.join(dir, index), `${JSON.stringify({ metadata: { total_size: bytes }, weight_map: maps[v] }, null, 2)}\n`);
    }
    disk[v] = { bytes, files: files.length };
  }
  return disk;
}

/** What a weights child is asked to write: one component folder. */
interface WeightsJob {
  network: Network;
  /** The source config.json, copied byte for byte (transformers 5 rejects `1` where the file says `1.0`). */
  configFile: string;
  target: string;
  seed: number;
  variants: Variant[];
  shardMb: number;
}

const NETWORK_SEED: Record<Network, number> = { unet: 1000, vae: 2000, clip: 3000 };

/** Child: writes one component folder and a stamp; a folder an earlier --keep run left with the same stamp is kept. */
function writeWeightsMain(job: WeightsJob): void {
  const stampFile = path.join(job.target, 'bench-stamp.json');
  const resultFile = path.join(job.target, 'bench-weights.json');
  const configText = readFileSync(job.configFile, 'utf8');
  const stamp = JSON.stringify({ configText, seed: job.seed, shardMb: job.shardMb, variants: [...job.variants].sort() });
  if (existsSync(stampFile) && existsSync(resultFile) && readFileSync(stampFile, 'utf8') === stamp) {
    process.stdout.write(`${RESULT_TAG}${JSON.stringify({ ...JSON.parse(readFileSync(resultFile, 'utf8')), reused: true })}\n`);
    return;
  }
  rmSync(job.target, { recursive: true, force: true });
  mkdirSync(job.target, { recursive: true });
  writeFileSync(path.join(job.target, 'config.json'), configText);
  const shapes = weightShapes(job.network, { unet: null, vae: null, clip: null, [job.network]: JSON.parse(configText) as unknown });
  const parameters = shapes.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  const t = performance.now();
  const rng = new Random(job.seed + NETWORK_SEED[job.network]);
  const disk = writeComponent(job.target, COMPONENT[job.network].base, shapes, job.variants, job.shardMb * MB, rng.normals(POOL), rng);
  const result: WeightFiles = { parameters, float32Bytes: 4 * parameters, disk, writeMs: Math.round(performance.now() - t) };
  writeFileSync(resultFile, JSON.stringify(result));
  writeFileSync(stampFile, stamp);
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Forward inputs (shared by our sessions and torch)

interface ForwardSpec {
  graph: GraphName;
  /** What the forward is, in words. */
  label: string;
  /** safetensors file with the graph's float inputs under their graph names. */
  inputs: string;
  /** For the VAE decoder: frames per clip (an int64 graph input, passed as a number). */
  numFrames?: number;
  outputs: string[];
}

function writeInputs(dir: string, configs: Record<Network, unknown>, o: Options): Record<GraphName, ForwardSpec> {
  const rng = new Random(o.seed + 1);
  const unet = parseUnetConfig(configs.unet);
  const clip = parseClipVisionConfig(configs.clip);
  const vae = parseVaeConfig(configs.vae);
  const f32 = (name: string, shape: number[], fill: (i: number) => number): TensorToWrite => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { name, dtype: 'F32', shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) };
  };
  const normal = () => rng.normal();
  const file = (g: GraphName) => path.join(dir, `${g}.inputs.safetensors`);
  const s = o.latent;
  const px = s * vae.downscale;
  writeSafetensors(file('unet'), [
    f32('sample', [1, o.frames, unet.inChannels, s, s], normal),
    f32('timestep', [], () => 0.25 * Math.log(700)), // SVD's c_noise at σ = 700
    f32('encoder_hidden_states', [1, 1, unet.crossAttentionDim], normal),
    f32('added_time_ids', [1, unet.numTimeIds], (i) => [6, 127, 0.02][i] ?? 0),
  ]);
  writeSafetensors(file('vae_encoder'), [f32('frames', [2, vae.inChannels, px, px], () => 2 * rng.uniform() - 1)]);
  writeSafetensors(file('vae_decoder'), [f32('latents', [o.frames, vae.latentChannels, s, s], normal)]);
  writeSafetensors(file('clip'), [f32(CLIP_INPUT, [1, clip.numChannels, clip.imageSize, clip.imageSize], normal)]);
  return {
    unet: { graph: 'unet', label: `UNet forward: batch 1, ${o.frames} frames, ${s}×${s} latents (${px}×${px} px)`, inputs: file('unet'), outputs: [UNET_OUTPUT] },
    vae_encoder: { graph: 'vae_encoder', label: `VAE encode: 2 frames at ${px}×${px}`, inputs: file('vae_encoder'), outputs: ['mean', 'logvar'] },
    vae_decoder: {
      graph: 'vae_decoder', label: `VAE decode: ${o.frames} frames of ${s}×${s} latents`, inputs: file('vae_decoder'),
      numFrames: o.frames, outputs: ['frames'],
    },
    clip: { graph: 'clip', label: `CLIP embed: 1 image at ${clip.imageSize}×${clip.imageSize}`, inputs: file('clip'), outputs: [CLIP_OUTPUT] },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Child: one ONNX Runtime session, measured

interface SessionJob {
  network: Network;
  forward: ForwardSpec;
  folder: string;
  variant: Variant;
  level: Level;
  device: Device;
  compute: Compute;
  threads: number;
  cacheDir: string;
  warmup: number;
  repeats: number;
  /** Where the child writes its outputs (float32 safetensors). */
  output: string;
}

interface SessionResult {
  graphNodes: number;
  onnxBytes: number;
  graphBuildMs: number;
  serializeMs: number;
  /** ModelSession.create: one more serialize + hash + ONNX Runtime's load, optimization and prepacking. */
  sessionCreateMs: number;
  rss: { start: Rss; beforeCreate: Rss; afterCreate: Rss; afterForward?: Rss };
  forward?: { warmupMs: number[]; runsMs: number[]; medianMs: number; minMs: number };
}

/** The graphs loadUnet, loadVae and loadClip build by default (the attention kernel is DEFAULT_ATTENTION, as in loadSvd). */
function buildGraph(job: SessionJob, store: WeightStore): Graph {
  switch (job.forward.graph) {
    case 'unet':
      return buildUnetGraph(readUnetConfig(job.folder), store, { computeType: job.compute, attention: DEFAULT_ATTENTION });
    case 'vae_encoder': case 'vae_decoder': {
      const config = readVaeConfig(job.folder);
      // As loadVae: SVD's VAE says force_upcast, so it computes in float32 even when float16 is asked for.
      const computeType = job.compute === 'float16' && !config.forceUpcast ? 'float16' : 'float32';
      return job.forward.graph === 'vae_encoder'
        ? buildVaeEncoderGraph(config, store, { computeType, attention: DEFAULT_ATTENTION })
        : buildVaeDecoderGraph(config, store, { computeType, attention: DEFAULT_ATTENTION });
    }
    case 'clip':
      return buildClipGraph(readClipVisionConfig(job.folder), store, { computeType: job.compute, attention: DEFAULT_ATTENTION });
  }
}

async function childMain(job: SessionJob): Promise<void> {
  const start = procStatus() as Rss;
  const store = WeightStore.openFolder(job.folder, {
    variant: job.variant === 'fp16' ? 'fp16' : undefined, baseName: COMPONENT[job.network].base,
  });
  let t = performance.now();
  const graph = buildGraph(job, store);
  const graphBuildMs = performance.now() - t;
  t = performance.now();
  const onnxBytes = graph.serialize(job.cacheDir).byteLength;
  const serializeMs = performance.now() - t;
  const beforeCreate = procStatus() as Rss;
  t = performance.now();
  const session = await ModelSession.create(graph, {
    device: job.device, cacheDir: job.cacheDir, threads: job.threads, optimization: job.level,
  });
  const sessionCreateMs = performance.now() - t;
  const afterCreate = procStatus() as Rss;
  const result: SessionResult = {
    graphNodes: graph.nodeCount, onnxBytes, graphBuildMs: round(graphBuildMs), serializeMs: round(serializeMs),
    sessionCreateMs: round(sessionCreateMs), rss: { start, beforeCreate, afterCreate },
  };

  const inputs = WeightStore.openFiles([job.forward.inputs]);
  const feeds: Record<string, Feed> = {};
  for (const name of inputs.names()) feeds[name] = { data: inputs.readFloat32(name), dims: inputs.info(name).shape };
  if (job.forward.numFrames !== undefined) {
    feeds.num_frames = { data: BigInt64Array.of(BigInt(job.forward.numFrames)), dims: [1], type: 'int64' };
  }
  const warmupMs: number[] = [];
  const runsMs: number[] = [];
  let out: Awaited<ReturnType<ModelSession['run']>> = {};
  for (let i = 0; i < job.warmup + job.repeats; i++) {
    t = performance.now();
    out = await session.run(feeds);
    (i < job.warmup ? warmupMs : runsMs).push(round(performance.now() - t));
  }
  result.rss.afterForward = procStatus() as Rss;
  result.forward = { warmupMs, runsMs, medianMs: round(median(runsMs), 2), minMs: Math.min(...runsMs) };
  writeSafetensors(job.output, job.forward.outputs.map((name) => ({
    name, dtype: 'F32', shape: [...out[name].dims], data: out[name].data,
  })));
  await session.release();
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: run steps one at a time, watched

/** loadAvg1: the machine's 1-minute load average when the step started (this machine is shared: timings are noisy). */
type StepOutcome<T> = { ok: true; result: T; memAvailableBefore: number; loadAvg1: number } |
  { ok: false; reason: string; memAvailableBefore: number; peakRss?: number; loadAvg1?: number };

let activeChild: ReturnType<typeof spawn> | undefined;

/**
 * Runs a child and parses its RESULT_TAG line. Refuses to start when `estimate` does not fit above the floor, and
 * kills the child (recording why) when MemAvailable drops below the floor or time runs out.
 */
async function runStep<T>(label: string, cmd: string, args: string[], estimate: number, o: Options,
  env: NodeJS.ProcessEnv = process.env): Promise<StepOutcome<T>> {
  const floor = o.minFreeGb * GB;
  const before = memAvailable();
  if (before - estimate < floor) {
    const reason = `skipped: needs ~${gb(estimate)} GiB (estimate) but only ${gb(before)} GiB is available and ` +
      `${gb(floor)} GiB must stay free (--min-free-gb)`;
    log(`${label}: ${reason}`);
    return { ok: false, reason, memAvailableBefore: before };
  }
  const loadAvg1 = round(os.loadavg()[0], 2);
  log(`${label}: starting (MemAvailable ${gb(before)} GiB, estimate ${gb(estimate)} GiB, load ${loadAvg1})`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    activeChild = child;
    let stdout = '';
    let stderrTail = '';
    let killedFor: string | undefined;
    let peakRss = 0;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderrTail = (stderrTail + d.toString()).slice(-2000);
    });
    const started = Date.now();
    const timer = setInterval(() => {
      const s = child.pid ? procStatus(child.pid) : undefined;
      if (s && Number.isFinite(s.peak)) peakRss = Math.max(peakRss, s.peak);
      const avail = memAvailable();
      if (!killedFor && avail < floor) {
        killedFor = `killed: MemAvailable fell to ${gb(avail)} GiB (< ${o.minFreeGb} GiB) with the step at ${gb(s?.rss)} GiB RSS`;
      } else if (!killedFor && Date.now() - started > o.childTimeoutS * 1000) {
        killedFor = `killed: still running after ${o.childTimeoutS} s (--child-timeout)`;
      }
      if (killedFor) child.kill('SIGKILL');
    }, 100);
    child.on('close', (code, signal) => {
      clearInterval(timer);
      activeChild = undefined;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
      if (killedFor || !line || code !== 0) {
        const why = killedFor ?? `failed (exit ${code ?? signal}): ${stderrTail.trim().split('\n').slice(-3).join(' | ') || 'no output'}`;
        log(`${label}: ${why}`);
        resolve({ ok: false, reason: why, memAvailableBefore: before, peakRss: peakRss || undefined, loadAvg1 });
        return;
      }
      log(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      resolve({ ok: true, result: JSON.parse(line.slice(RESULT_TAG.length)) as T, memAvailableBefore: before, loadAvg1 });
    });
  });
}

/**
 * Rough peak estimates (bytes), from this bench's own runs on the real configs: sessions peak at about 1.05–1.1× the
 * float32 weight bytes at 'extended' and 'all' (fp16 files are cast to float32 at load); 'all' on fp16 files gets
 * extra room for its Conv re-layout (session.ts measured up to 3× on a conv-only graph); the VAE decoder's
 * activations at 128×128 add ~0.5 GB. torch peaks at ~1.2× float32 bytes. The watchdog is the real guard.
 */
function estimateSession(w: WeightFiles, job: { level: Level; variant: Variant; device: Device }): number {
  if (job.device !== 'cpu') return 2 * GB;
  const fp16 = job.variant === 'fp16';
  const factor = job.level === 'disabled' ? (fp16 ? 0.6 : 1.1) : job.level === 'all' && fp16 ? 1.5 : 1.15;
  return factor * w.float32Bytes + 1 * GB;
}

function estimateTorch(w: WeightFiles, device: Device): number {
  return device === 'cpu' ? 1.25 * w.float32Bytes + 1.5 * GB : 3 * GB;
}

interface TorchTiming {
  warmupMs: number[];
  runsMs: number[];
  medianMs: number;
}

interface TorchResult {
  versions: Record<string, string>;
  loadMs: number;
  rss: { afterLoad: Rss; end: Rss };
  forwards: Record<string, TorchTiming & { flushDenormal?: TorchTiming }>;
}

/** What the report says about one network's torch process. */
interface TorchRow {
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  weights?: Variant;
  versions?: Record<string, string>;
  loadAvg1?: number;
  loadMs?: number;
  rssAfterLoadGiB?: number;
  peakRssGiB?: number;
  peakVsFloat32?: number;
  forwards?: TorchResult['forwards'];
  peakRssSeenGiB?: number;
}

interface Comparison {
  maxAbsDiff: number;
  maxAbsRef: number;
  /** maxAbsDiff ≤ tolerance · max(1, maxAbsRef). */
  agrees: boolean;
  tolerance: number;
}

function compareOutputs(ours: string, theirs: string, names: string[], tolerance: number): Comparison | { error: string } {
  try {
    const a = WeightStore.openFiles([ours]);
    const b = WeightStore.openFiles([theirs]);
    let maxAbsDiff = 0;
    let maxAbsRef = 0;
    for (const name of names) {
      const x = a.readFloat32(name);
      const y = b.readFloat32(name);
      if (x.length !== y.length) return { error: `${name}: ${x.length} values against torch's ${y.length}` };
      for (let i = 0; i < x.length; i++) {
        const d = Math.abs(x[i] - y[i]);
        if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
        maxAbsRef = Math.max(maxAbsRef, Math.abs(y[i]));
      }
    }
    return { maxAbsDiff, maxAbsRef, agrees: maxAbsDiff <= tolerance * Math.max(1, maxAbsRef), tolerance };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

interface SessionRow {
  network: Network;
  graph: GraphName;
  weights: Variant;
  optimization: Level;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  memAvailableBeforeGiB: number;
  loadAvg1?: number;
  graphNodes?: number;
  onnxBytes?: number;
  graphBuildMs?: number;
  serializeMs?: number;
  sessionCreateMs?: number;
  rssGiB?: {
    beforeCreate: number; afterCreate: number; anonAfterCreate: number; fileAfterCreate: number;
    peakAfterCreate: number; afterForward?: number; peakAfterForward?: number;
  };
  /** Peak RSS over the whole child (session creation and forwards) / the weights' float32 bytes and on-disk bytes. */
  peakVsFloat32?: number;
  peakVsDisk?: number;
  forward?: {
    label: string; warmupMs: number[]; runsMs: number[]; medianMs: number; minMs: number;
    /** diffusers/transformers' median, and ours/theirs. */
    torchMedianMs: number | null; ratio: number | null;
    /** The same with torch.set_flush_denormal(True) (CPU only). */
    torchFlushDenormalMedianMs: number | null; ratioVsFlushDenormal: number | null;
    check: Comparison | { error: string } | null;
  };
  /** Peak RSS the watchdog saw before it killed the step. */
  peakRssSeenGiB?: number;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memTotalGiB: round(os.totalmem() / GB, 1),
    memAvailableGiB: round(memAvailable() / GB, 1), loadAvg: os.loadavg().map((x) => round(x, 2)),
    node: process.version, onnxruntime: (ort.env as { versions?: { common?: string } }).versions?.common ?? 'unknown',
    platform: `${process.platform}/${process.arch}`,
  };
}

function readConfigs(dir: string): Record<Network, unknown> {
  const read = (component: string) => {
    const file = path.join(dir, component, 'config.json');
    if (!existsSync(file)) throw new Error(`${file} is missing (--configs names a diffusers SVD folder)`);
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  };
  return { unet: read('unet'), vae: read('vae'), clip: read('image_encoder') };
}

/** Fixed-width table: left-aligned first column(s), right-aligned numbers. */
function table(header: string[], rows: string[][], leftCols = 3): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (i < leftCols ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

function summary(rows: SessionRow[], torch: Record<string, TorchRow>, weights: Record<string, WeightFiles>): string {
  const sec = (ms: number | undefined) => (ms === undefined ? '—' : (ms / 1000).toFixed(ms < 10_000 ? 2 : 1));
  const ms = (x: number | null | undefined) => (x == null ? '—' : x.toFixed(0));
  const out: string[] = [];
  out.push(table(['network', 'parameters', 'float32 GiB', 'disk GiB (files)', 'write s'],
    Object.entries(weights).map(([n, w]) => [n, `${(w.parameters / 1e6).toFixed(1)} M`, gb(w.float32Bytes),
      Object.entries(w.disk).map(([v, d]) => `${v} ${gb(d.bytes)} (${d.files})`).join(', '), sec(w.writeMs)]), 1));
  out.push('');
  const body: string[][] = [];
  const notes: string[] = [];
  for (const r of rows) {
    if (r.status !== 'ok' || !r.rssGiB) {
      notes.push(`${r.graph} ${r.weights} ${r.optimization}: ${r.reason}`);
      body.push([r.graph, r.weights, r.optimization, r.status]);
      continue;
    }
    const s = r.rssGiB;
    const f = r.forward;
    const check = f?.check ? ('maxAbsDiff' in f.check ? `${f.check.maxAbsDiff.toExponential(1)}${f.check.agrees ? '' : ' (!)'}` : 'error') : '—';
    body.push([r.graph, r.weights, r.optimization, sec(r.graphBuildMs), sec(r.serializeMs), sec(r.sessionCreateMs),
      `${s.beforeCreate.toFixed(2)}→${s.afterCreate.toFixed(2)}`, s.anonAfterCreate.toFixed(2),
      (s.peakAfterForward ?? s.peakAfterCreate).toFixed(2), r.peakVsFloat32?.toFixed(2) ?? '—', r.peakVsDisk?.toFixed(2) ?? '—',
      ms(f?.medianMs), ms(f?.minMs), ms(f?.torchMedianMs), f?.ratio?.toFixed(2) ?? '—', ms(f?.torchFlushDenormalMedianMs),
      f?.ratioVsFlushDenormal?.toFixed(2) ?? '—', check]);
  }
  out.push(table(['graph', 'wts', 'level', 'build s', 'ser. s', 'create s', 'RSS GiB', 'anon', 'peak GiB', '/fp32', '/disk',
    'ours ms', 'min', 'torch ms', 'ratio', 'torch FTZ ms', 'ratio', 'max|Δ|'], body));
  for (const n of notes) out.push(`  ${n}`);
  out.push('');
  for (const [n, t] of Object.entries(torch)) {
    if (t.status !== 'ok') {
      out.push(`torch ${n}: ${t.reason}`);
      continue;
    }
    const fwd = Object.entries(t.forwards ?? {}).map(([g, f]) =>
      `${g} ${ms(f.medianMs)} ms${f.flushDenormal ? ` (${ms(f.flushDenormal.medianMs)} ms with denormals flushed)` : ''}`).join(', ');
    out.push(`torch ${n} (${t.weights} files): load ${sec(t.loadMs)} s, RSS after load ${t.rssAfterLoadGiB} GiB, ` +
      `peak ${t.peakRssGiB} GiB (${t.peakVsFloat32}× float32 bytes); ${fwd}`);
  }
  return out.join('\n');
}

async function main(o: Options): Promise<void> {
  const configs = readConfigs(o.configs);
  const ownTmp = !o.tmp;
  const tmp = o.tmp ?? mkdtempSync(path.join(os.tmpdir(), 'videoshop-bench-models-'));
  mkdirSync(tmp, { recursive: true });
  const cleanup = () => {
    if (!o.keep) rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    activeChild?.kill('SIGKILL');
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const notes: string[] = [];
  const startedAt = new Date().toISOString();
  const host = machine();
  log(`machine: ${host.cores} cores (${host.cpu}), ${host.memTotalGiB} GiB, ${host.memAvailableGiB} GiB available, load ${host.loadAvg.join(' ')}`);
  try {
    const model = path.join(tmp, 'model');
    mkdirSync(model, { recursive: true });
    // Weights are written by children too, so this process stays small while the measured ones run.
    const weights = {} as Record<Network, WeightFiles>;
    for (const network of o.networks) {
      const job: WeightsJob = {
        network, configFile: path.join(o.configs, COMPONENT[network].folder, 'config.json'),
        target: path.join(model, COMPONENT[network].folder), seed: o.seed, variants: o.variants, shardMb: o.shardMb,
      };
      const out = await runStep<WeightFiles & { reused?: boolean }>(`write ${network} weights (${o.variants.join(' + ')})`,
        process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--write-weights', JSON.stringify(job)],
        Math.min(2.5, (1.6 * o.shardMb) / 1024 + 0.3) * GB, o);
      if (!out.ok) throw new Error(`could not write the ${network} weights: ${out.reason}`);
      if (out.result.reused) log(`reused the ${network} weights in ${job.target}`);
      delete out.result.reused;
      weights[network] = out.result;
    }
    const io = path.join(tmp, 'io');
    mkdirSync(io, { recursive: true });
    const forwards = writeInputs(io, configs, o);
    const cacheDir = path.join(tmp, 'graphs');
    const tolerance = o.compute === 'float32' ? 1e-3 : 5e-2;

    const torchResults: Record<string, TorchRow> = {};
    const torchOutputs: Partial<Record<GraphName, string>> = {};
    const torchMedians: Partial<Record<GraphName, { medianMs: number; flushDenormalMs?: number }>> = {};
    const rows: SessionRow[] = [];
    const torchAvailable = o.torch && existsSync(PYTHON);
    if (o.torch && !torchAvailable) notes.push(`torch comparison skipped: ${PYTHON} does not exist (run bash tests/oracle/run.sh once)`);
    if (!o.torch) notes.push('torch comparison skipped (--no-torch)');

    for (const network of o.networks) {
      const folder = path.join(model, COMPONENT[network].folder);
      const w = weights[network];
      // Torch first, in its own process: it and ORT never hold the same network at once.
      if (torchAvailable) {
        const variant = o.variants.includes('fp16') ? 'fp16' : 'fp32';
        const jobs = GRAPHS[network].map((g) => ({ ...forwards[g], output: path.join(io, `${g}.torch.safetensors`) }));
        const request = path.join(io, `${network}.torch-request.json`);
        writeFileSync(request, JSON.stringify({
          network, folder, variant: variant === 'fp16' ? 'fp16' : null, device: o.device, dtype: o.compute,
          threads: o.threads, warmup: o.warmup, repeats: o.repeats, flushDenormal: o.device === 'cpu', jobs,
        }));
        const env = {
          ...process.env, OMP_NUM_THREADS: String(o.threads), MKL_NUM_THREADS: String(o.threads), HF_HUB_OFFLINE: '1',
          HF_HUB_DISABLE_PROGRESS_BARS: '1', TQDM_DISABLE: '1', DIFFUSERS_VERBOSITY: 'error', TRANSFORMERS_VERBOSITY: 'error',
        };
        const out = await runStep<TorchResult>(`torch ${network} (${variant} files)`, PYTHON, [TORCH_SCRIPT, '--request', request],
          estimateTorch(w, o.device), o, env);
        if (out.ok) {
          const r = out.result;
          torchResults[network] = {
            status: 'ok', weights: variant, versions: r.versions, loadAvg1: out.loadAvg1, loadMs: r.loadMs,
            rssAfterLoadGiB: round(r.rss.afterLoad.rss / GB, 2), peakRssGiB: round(r.rss.end.peak / GB, 2),
            peakVsFloat32: round(r.rss.end.peak / w.float32Bytes, 2), forwards: r.forwards,
          };
          for (const j of jobs) {
            torchOutputs[j.graph] = j.output;
            const f = r.forwards[j.graph];
            if (f) torchMedians[j.graph] = { medianMs: f.medianMs, flushDenormalMs: f.flushDenormal?.medianMs };
          }
        } else {
          torchResults[network] = {
            status: out.reason.startsWith('skipped') ? 'skipped' : 'failed', reason: out.reason,
            peakRssSeenGiB: out.peakRss ? round(out.peakRss / GB, 2) : undefined,
          };
        }
      }
      const order: Level[] = [...o.levels].sort((a, b) => ['disabled', 'basic', 'extended', 'all'].indexOf(a) - ['disabled', 'basic', 'extended', 'all'].indexOf(b));
      for (const graph of GRAPHS[network]) {
        for (const variant of o.variants) {
          for (const level of order) {
            const label = `${graph} ${variant} ${level}`;
            const job: SessionJob = {
              network, forward: forwards[graph], folder, variant, level, device: o.device, compute: o.compute, threads: o.threads,
              cacheDir, warmup: o.warmup, repeats: o.repeats, output: path.join(io, `${graph}.${variant}.${level}.ours.safetensors`),
            };
            const out = await runStep<SessionResult>(label, process.execPath,
              [...process.execArgv, fileURLToPath(import.meta.url), '--child', JSON.stringify(job)], estimateSession(w, job), o);
            const row: SessionRow = {
              network, graph, weights: variant, optimization: level, status: out.ok ? 'ok' : out.reason.startsWith('skipped') ? 'skipped' : 'failed',
              memAvailableBeforeGiB: round(out.memAvailableBefore / GB, 2), loadAvg1: out.loadAvg1,
            };
            if (!out.ok) {
              row.reason = out.reason;
              if (out.peakRss) row.peakRssSeenGiB = round(out.peakRss / GB, 2);
              rows.push(row);
              continue;
            }
            const r = out.result;
            const peak = Math.max(r.rss.afterCreate.peak, r.rss.afterForward?.peak ?? 0);
            const g2 = (x: number | undefined) => (x === undefined ? undefined : round(x / GB, 2));
            Object.assign(row, {
              graphNodes: r.graphNodes, onnxBytes: r.onnxBytes, graphBuildMs: r.graphBuildMs, serializeMs: r.serializeMs,
              sessionCreateMs: r.sessionCreateMs,
              rssGiB: {
                beforeCreate: g2(r.rss.beforeCreate.rss), afterCreate: g2(r.rss.afterCreate.rss), anonAfterCreate: g2(r.rss.afterCreate.anon),
                fileAfterCreate: g2(r.rss.afterCreate.file), peakAfterCreate: g2(r.rss.afterCreate.peak),
                afterForward: g2(r.rss.afterForward?.rss), peakAfterForward: g2(r.rss.afterForward?.peak),
              },
              peakVsFloat32: round(peak / w.float32Bytes, 2),
              peakVsDisk: round(peak / (w.disk[variant]?.bytes ?? NaN), 2),
            });
            if (r.forward) {
              const theirs = torchMedians[graph];
              const ref = torchOutputs[graph];
              row.forward = {
                label: forwards[graph].label, ...r.forward, torchMedianMs: theirs?.medianMs ?? null,
                ratio: theirs ? round(r.forward.medianMs / theirs.medianMs, 2) : null,
                torchFlushDenormalMedianMs: theirs?.flushDenormalMs ?? null,
                ratioVsFlushDenormal: theirs?.flushDenormalMs ? round(r.forward.medianMs / theirs.flushDenormalMs, 2) : null,
                check: ref ? compareOutputs(job.output, ref, forwards[graph].outputs, tolerance) : null,
              };
            }
            rows.push(row);
          }
        }
      }
    }
    notes.push('Weights are random (seeded); fp32 files hold the fp16 files\' values exactly (rounded before writing), so one torch run checks every session.');
    notes.push(`Forward check: max |ours − torch| ≤ ${tolerance} · max(1, max |torch|).`);
    if (torchAvailable) notes.push(`torch loads the ${o.variants.includes('fp16') ? 'fp16' : 'fp32'} files with torch_dtype ${o.compute}; one process per network.`);
    const report = {
      benchmark: 'bench/models.ts', startedAt, machine: host, configs: o.configs, tmp: ownTmp ? '(deleted temp folder)' : tmp,
      options: {
        device: o.device, compute: o.compute, threads: o.threads, warmup: o.warmup, repeats: o.repeats, frames: o.frames,
        latent: o.latent, levels: o.levels, weights: o.variants, minFreeGb: o.minFreeGb, shardMb: o.shardMb, seed: o.seed,
      },
      weights, sessions: rows, torch: torchResults, notes,
    };
    const text = summary(rows, torchResults, weights);
    if (o.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.stderr.write(`${text}\n`);
    } else {
      process.stdout.write(`${text}\n`);
    }
  } finally {
    cleanup();
    if (!o.keep && existsSync(tmp) && readdirSync(tmp).length) log(`could not remove ${tmp}`);
  }
}

const argv = process.argv.slice(2);
const die = (e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
};
if (argv[0] === '--child') {
  childMain(JSON.parse(argv[1]) as SessionJob).catch(die);
} else if (argv[0] === '--write-weights') {
  try {
    writeWeightsMain(JSON.parse(argv[1]) as WeightsJob);
  } catch (e) {
    die(e);
  }
} else {
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  main(opts).catch(die);
}
