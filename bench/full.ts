/**
 * A whole edit at the size users run (default 14 frames of 1024×576) on random weights for SVD's real configs:
 * peak RSS (whole edit and per stage), time per stage, FLOPs per network (src/models/flops.ts) and the rates they
 * reach, next to the machine's float32 GEMM rate measured in the same run, and the projected time of a default edit.
 *
 *   npm run bench:full -- --json                              # full size: ~40 min on 2 cores, see bench/README.md
 *   npm run bench:full -- --json --frames 2 --width 128 --height 128
 *   npm run bench:full -- --json --device cuda --dtype float16
 *
 * Weights are written once by bench/models.ts' writer (fp16 files, the variant people download) into --cache
 * (default $TMPDIR/videoshop-bench-full) and reused. The edit runs in a child process, so its VmHWM is its own; the
 * child samples VmRSS every 100 ms and keeps the peak of each stage. JSON lines on stdout (with --json), the last one
 * the summary; the whole result also goes to bench/results/full-<time>.json with the machine's description.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { editVideo } from '../src/edit/index.js';
import { clipFlops, unetFlops, vaeDecodeFlops, vaeEncodeFlops } from '../src/models/flops.js';
import { parseClipVisionConfig } from '../src/models/clip/config.js';
import { parseUnetConfig } from '../src/models/unet/config.js';
import { parseVaeConfig } from '../src/models/vae/config.js';
import { Graph } from '../src/onnx/graph.js';
import { ModelSession, type Device } from '../src/runtime/session.js';
import { ffmpegPath } from '../src/video/ffmpeg.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const CONFIGS = path.join(REPO, 'configs', 'stable-video-diffusion-img2vid');
const TAG = 'BENCH_FULL ';
const GIB = 2 ** 30;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

interface Options {
  json: boolean; frames: number; width: number; height: number; steps: number; device: Device; dtype?: 'float32' | 'float16';
  threads: number; cache: string; gemm: number; memoryGib?: number; results: string;
  /** A model folder to edit with instead of the random-weight SVD (its own configs then count the FLOPs). */
  model?: string;
}

const USAGE = `usage: npm run bench:full -- [--json] [--frames 14] [--width 1024 --height 576] [--steps 2]
  [--device cpu|cuda|webgpu] [--dtype float32|float16] [--threads 2] [--cache DIR] [--gemm 3072] [--memory-gib X]
  [--results DIR (default bench/results)] [--model DIR (a diffusers folder instead of random weights, e.g. models/toy)]`;

function parse(argv: string[]): Options {
  const { values: v } = parseArgs({
    args: argv, options: {
      json: { type: 'boolean' }, frames: { type: 'string' }, width: { type: 'string' }, height: { type: 'string' },
      steps: { type: 'string' }, device: { type: 'string' }, dtype: { type: 'string' }, threads: { type: 'string' },
      cache: { type: 'string' }, gemm: { type: 'string' }, 'memory-gib': { type: 'string' }, results: { type: 'string' }, model: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (x: string | undefined, d: number, name: string) => {
    const n = x === undefined ? d : Number(x);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${x}`);
    return n;
  };
  const device = (v.device ?? 'cpu') as Device;
  if (!['cpu', 'cuda', 'webgpu'].includes(device)) throw new Error(`--device: cpu, cuda or webgpu, got ${v.device}`);
  if (v.dtype !== undefined && !['float32', 'float16'].includes(v.dtype)) throw new Error(`--dtype: float32 or float16, got ${v.dtype}`);
  const o: Options = {
    json: v.json ?? false, frames: int(v.frames, 14, 'frames'), width: int(v.width, 1024, 'width'), height: int(v.height, 576, 'height'),
    steps: int(v.steps, 2, 'steps'), device, dtype: v.dtype as Options['dtype'], threads: int(v.threads, 2, 'threads'),
    cache: path.resolve(v.cache ?? path.join(os.tmpdir(), 'videoshop-bench-full')), gemm: int(v.gemm, 3072, 'gemm'),
    memoryGib: v['memory-gib'] === undefined ? undefined : Number(v['memory-gib']), results: path.resolve(v.results ?? path.join(HERE, 'results')),
    model: v.model === undefined ? undefined : path.resolve(v.model),
  };
  if (!o.model && (o.width % 64 || o.height % 64)) throw new Error('--width and --height must be multiples of 64 (SVD\'s size multiple)');
  return o;
}

const log = (m: string) => process.stderr.write(`[bench:full] ${m}\n`);

function status(): { rss: number; peak: number } {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Runs a child (this file with a role) and returns its tagged JSON line. */
function child<T>(args: string[], env: NodeJS.ProcessEnv = process.env, script = fileURLToPath(import.meta.url)): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(TAG) || l.startsWith('BENCH_RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(line.indexOf(' ') + 1)) as T);
      else reject(new Error(`${args[0]} child failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** The model folder: random fp16 weights by bench/models.ts' writer (reused when its stamp matches) + the configs. */
async function writeModel(cache: string): Promise<string> {
  const model = path.join(cache, 'model');
  const components = { unet: ['unet', 'unet'], vae: ['vae', 'vae'], clip: ['image_encoder', 'image_encoder'] } as const;
  for (const [network, [folder]] of Object.entries(components)) {
    const job = { network, configFile: path.join(CONFIGS, folder, 'config.json'), target: path.join(model, folder), seed: 0, variants: ['fp16'], shardMb: 1024 };
    const t = performance.now();
    const r = await child<{ reused?: boolean }>(['--write-weights', JSON.stringify(job)], process.env, path.join(HERE, 'models.ts'));
    log(`${network} weights ${r.reused ? 'reused' : `written in ${((performance.now() - t) / 1000).toFixed(0)} s`} (${job.target})`);
  }
  copyFileSync(path.join(CONFIGS, 'model_index.json'), path.join(model, 'model_index.json'));
  for (const [dir, file, from] of [['scheduler', 'scheduler_config.json', CONFIGS], ['feature_extractor', 'preprocessor_config.json', path.join(REPO, 'models', 'toy')]]) {
    mkdirSync(path.join(model, dir), { recursive: true });
    copyFileSync(path.join(from, dir, file), path.join(model, dir, file));
  }
  return model;
}

/** A moving test pattern of `frames` frames and its first frame with the colours inverted as the edit. */
function writeClip(dir: string, o: Options): { video: string; edited: string } {
  mkdirSync(dir, { recursive: true });
  const video = path.join(dir, `clip-${o.frames}x${o.width}x${o.height}.mkv`);
  const edited = path.join(dir, `edited-${o.width}x${o.height}.png`);
  const run = (args: string[]) => {
    const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  };
  run(['-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=7`, '-frames:v', String(o.frames), '-c:v', 'ffv1', video]);
  run(['-i', video, '-frames:v', '1', '-vf', 'negate', edited]);
  return { video, edited };
}

interface GemmResult { n: number; medianMs: number; gflopsPerS: number }

/** Child: the float32 GEMM rate ONNX Runtime reaches here (N×N MatMul, same threads and device). */
async function gemmMain(n: number, threads: number, device: Device, cacheDir: string): Promise<void> {
  const g = new Graph({ name: `gemm${n}` });
  const a = g.input('a', 'float32', [n, n]);
  const b = g.input('b', 'float32', [n, n]);
  g.output(g.op('MatMul', [a, b]), 'c', 'float32', [n, n]);
  const session = await ModelSession.create(g, { device, threads, cacheDir });
  const data = Float32Array.from({ length: n * n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  const feeds = { a: { data, dims: [n, n] }, b: { data, dims: [n, n] } };
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  const result: GemmResult = { n, medianMs: round(times[1], 1), gflopsPerS: round((2 * n ** 3) / (times[1] / 1000) / 1e9, 1) };
  process.stdout.write(`${TAG}${JSON.stringify(result)}\n`);
}

interface EditChild {
  timings: Record<string, number>;
  peakRssGiB: number;
  stagePeakRssGiB: Record<string, number>;
  memory: unknown;
  unetCalls: number;
  processing: { width: number; height: number };
}

/** Child: one editVideo, RSS sampled per stage. */
async function editMain(job: { video: string; edited: string; model: string; output: string; o: Options }): Promise<void> {
  const { o } = job;
  const stagePeak: Record<string, number> = {};
  let stage = 'load';
  const sample = () => {
    stagePeak[stage] = Math.max(stagePeak[stage] ?? 0, status().rss);
  };
  const timer = setInterval(sample, 100);
  const result = await editVideo({
    video: job.video, editedFrame: job.edited, output: job.output, force: true, model: job.model, steps: o.steps,
    size: { width: o.width, height: o.height }, keepUnedited: 'off', device: o.device, dtype: o.dtype, threads: o.threads,
    cacheDir: path.join(o.cache, 'graphs'),
  }, {
    onProgress: (p) => {
      sample();
      if (p.stage !== stage) log(`${p.stage} (${new Date().toISOString().slice(11, 19)}, RSS ${(status().rss / GIB).toFixed(2)} GiB)`);
      stage = p.stage;
      sample();
    },
  });
  clearInterval(timer);
  sample();
  const out: EditChild = {
    timings: Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, round(v, 0)])),
    peakRssGiB: round(status().peak / GIB, 2),
    stagePeakRssGiB: Object.fromEntries(Object.entries(stagePeak).map(([k, v]) => [k, round(v / GIB, 2)])),
    memory: result.memory ?? null, unetCalls: result.unetCalls, processing: result.processing,
  };
  process.stdout.write(`${TAG}${JSON.stringify(out)}\n`);
}

async function main(o: Options): Promise<void> {
  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memTotalGiB: round(os.totalmem() / GIB, 1), loadAvg: os.loadavg().map((x) => round(x)),
    node: process.version, onnxruntime: (ort.env as { versions?: { common?: string } }).versions?.common ?? 'unknown',
    platform: `${process.platform}/${process.arch}`, device: o.device, dtype: o.dtype ?? (o.device === 'cpu' ? 'float32' : 'float16'), threads: o.threads,
  };
  const emit = (x: object) => o.json && process.stdout.write(`${JSON.stringify(x)}\n`);
  emit({ type: 'machine', ...machine });
  const model = o.model ?? await writeModel(o.cache);
  const clip = writeClip(path.join(o.cache, 'clips'), o);

  log(`GEMM ${o.gemm}³ float32 on ${o.device}`);
  const gemm = await child<GemmResult>(['--gemm', String(o.gemm), String(o.threads), o.device, path.join(o.cache, 'graphs')]);
  emit({ type: 'gemm', ...gemm });
  log(`GEMM: ${gemm.gflopsPerS} GFLOP/s`);

  const env = { ...process.env, ...(o.memoryGib ? { VIDEOSHOP_MEMORY_GIB: String(o.memoryGib) } : {}) };
  log(`edit: ${o.frames} frames of ${o.width}×${o.height}, --steps ${o.steps}`);
  const t = performance.now();
  const edit = await child<EditChild>(['--edit', JSON.stringify({ ...clip, model, output: path.join(o.cache, 'out.mkv'), o })], env);
  const wallMs = performance.now() - t;

  // FLOPs per network from the configs; the edit ran ⌊steps·0.55⌋ inversion (batch 1) and as many guided steps (batch 2).
  const read = (c: string) => JSON.parse(readFileSync(path.join(model, c, 'config.json'), 'utf8')) as unknown;
  const unet = parseUnetConfig(read('unet'));
  const vae = parseVaeConfig(read('vae'));
  const clipConfig = parseClipVisionConfig(read('image_encoder'));
  const latent = { frames: o.frames, height: o.height / vae.downscale, width: o.width / vae.downscale };
  const steps = Math.floor(o.steps * 0.55);
  const unet1 = unetFlops(unet, { batch: 1, ...latent });
  const unet2 = unetFlops(unet, { batch: 2, ...latent });
  // Encode: the block's frames, the two noise-augmented conditioning frames and the clean edited frame; CLIP twice.
  const encode = vaeEncodeFlops(vae, { frames: o.frames + 3, height: o.height, width: o.width }) + 2 * clipFlops(clipConfig);
  const decode = vaeDecodeFlops(vae, latent);
  const tm = edit.timings;
  const rate = (flops: number, ms: number) => round(flops / (ms / 1000) / 1e9, 1);
  const unetMs = tm.invert + tm.denoise;
  const unetRate = rate(steps * (unet1 + unet2), unetMs);
  const flops = {
    unetForwardBatch1Tflop: round(unet1 / 1e12, 3), unetForwardBatch2Tflop: round(unet2 / 1e12, 3),
    vaeEncodeTflop: round(vaeEncodeFlops(vae, { frames: o.frames, height: o.height, width: o.width }) / 1e12, 3),
    vaeDecodeTflop: round(decode / 1e12, 3), clipTflop: round(clipFlops(clipConfig) / 1e12, 4),
    defaultEditPflop: round((13 * (unet1 + unet2) + encode + decode) / 1e15, 3),
  };
  const rates = {
    unet: unetRate, invert: rate(steps * unet1, tm.invert), denoise: rate(steps * unet2, tm.denoise),
    encode: rate(encode, tm.encode), decode: rate(decode, tm.decode),
  };
  // A default edit: 13 inversion + 13 guided steps; encode, decode, read and write as measured; the load apart.
  const projectedMs = tm.read + tm.encode + (13 / steps) * unetMs + tm.decode + tm.write;
  const summary = {
    type: 'summary', frames: o.frames, width: o.width, height: o.height, steps: o.steps, device: o.device, dtype: machine.dtype,
    peak_rss_gib: edit.peakRssGiB, stage_peak_rss_gib: edit.stagePeakRssGiB, timings_ms: tm, wall_ms: round(wallMs, 0),
    memory_plan: edit.memory, flops, gflops_per_s: rates,
    unet_gflops_per_s: unetRate, attainable_gflops_per_s: gemm.gflopsPerS, unet_efficiency: round(unetRate / gemm.gflopsPerS, 3),
    vae_decode_efficiency: round(rates.decode / gemm.gflopsPerS, 3),
    projected_default_edit_s: round(projectedMs / 1000, 0), load_s: round(tm.load / 1000, 1),
  };
  mkdirSync(o.results, { recursive: true });
  const file = path.join(o.results, `full-${o.frames}x${o.width}x${o.height}-${o.device}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ machine, options: { ...o, cache: undefined, results: undefined }, gemm, edit, summary }, null, 1)}\n`);
  log(`peak RSS ${edit.peakRssGiB} GiB; UNet ${unetRate} GFLOP/s of ${gemm.gflopsPerS} (${summary.unet_efficiency}); projected default edit ${summary.projected_default_edit_s} s; ${path.relative(REPO, file)}`);
  if (o.json) emit(summary);
  else console.log(JSON.stringify(summary, null, 1));
}

const argv = process.argv.slice(2);
const die = (e: unknown) => {
  process.stderr.write(`bench:full: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
};
if (argv[0] === '--gemm') gemmMain(Number(argv[1]), Number(argv[2]), argv[3] as Device, argv[4]).catch(die);
else if (argv[0] === '--edit') editMain(JSON.parse(argv[1]) as Parameters<typeof editMain>[0]).catch(die);
else {
  let o: Options;
  try {
    o = parse(argv);
  } catch (e) {
    process.stderr.write(`bench:full: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  main(o).catch(die);
}
