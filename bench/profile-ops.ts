/**
 * Where a network's time goes, by ONNX op type (issue 20 item 4): one forward of the UNet or the VAE decoder with
 * ONNX Runtime's profiler on, its kernel times summed per op type, and for the ops that do the arithmetic (Conv,
 * MatMul, Gemm, the attention kernel) the FLOPs read off their input shapes in the trace, so each gets its own
 * GFLOP/s next to the machine's float32 GEMM rate measured in the same process (an N×N ORT MatMul).
 *
 *   node --import tsx bench/profile-ops.ts --json [--network unet|vae_decoder] [--frames 14] [--width 512 --height 288]
 *     [--level all|extended (default: the product's)] [--model DIR (default: bench:full's random-weight SVD, $TMPDIR/videoshop-bench-full/model)] [--threads 2]
 *
 * The default size is a quarter of SVD's area (a forward takes ~1.5 min on 2 cores instead of ~6): enough to rank the
 * op types; their shares move towards attention at full size. JSON lines on stdout, the last one the summary.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ATTENTION } from '../src/models/load-options.js';
import { readUnetConfig } from '../src/models/unet/config.js';
import { buildUnetGraph } from '../src/models/unet/graph.js';
import { readVaeConfig } from '../src/models/vae/config.js';
import { buildVaeDecoderGraph } from '../src/models/vae/graph.js';
import { Graph } from '../src/onnx/graph.js';
import { Random } from '../src/random.js';
import { ModelSession, type Feed } from '../src/runtime/session.js';
import { WeightStore } from '../src/safetensors/read.js';

const { values: v } = parseArgs({
  options: {
    json: { type: 'boolean', default: false }, network: { type: 'string', default: 'unet' }, frames: { type: 'string', default: '14' },
    width: { type: 'string', default: '512' }, height: { type: 'string', default: '288' }, threads: { type: 'string', default: '2' },
    model: { type: 'string', default: path.join(os.tmpdir(), 'videoshop-bench-full', 'model') }, gemm: { type: 'string', default: '2048' },
    level: { type: 'string' },
  },
});
const network = v.network as 'unet' | 'vae_decoder';
if (network !== 'unet' && network !== 'vae_decoder') throw new Error(`--network: unet or vae_decoder, got ${v.network}`);
const frames = Number(v.frames);
const threads = Number(v.threads);
const width = Number(v.width);
const height = Number(v.height);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const work = mkdtempSync(path.join(os.tmpdir(), 'videoshop-profile-'));
const emit = (o: object) => console.log(JSON.stringify(o));

interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

const shapes = (list: Record<string, number[]>[] | undefined): number[][] => (list ?? []).map((o) => Object.values(o)[0] ?? []);
const count = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** FLOPs of one kernel from its trace shapes (2 per multiply-add), for the op types that do the arithmetic; else 0. */
function kernelFlops(op: string, inputs: number[][], outputs: number[][]): number {
  if (op === 'MatMul' || op === 'FusedMatMul' || op === 'Gemm') {
    const [a, b] = inputs;
    if (!a || !b) return 0;
    const k = a[a.length - 1];
    return 2 * count(outputs[0] ?? []) * k;
  }
  if (op === 'Conv' || op === 'FusedConv' || op === 'NchwcConv') {
    const w = inputs[1];
    if (!w || !outputs[0]) return 0;
    // Each output element: Cin/groups · kernel area multiply-adds (weight [Cout, Cin/g, kh, kw]; NCHWc keeps the order).
    return 2 * count(outputs[0]) * count(w.slice(1));
  }
  if (op === 'MultiHeadAttention' || op === 'Attention') {
    // q [B, S, hidden], k [B, L, hidden]: QKᵀ and AV, each 2·B·S·L·hidden.
    const [q, k] = inputs;
    if (!q || !k || q.length !== 3) return 0;
    return 2 * 2 * q[0] * q[1] * k[1] * q[2];
  }
  return 0;
}

async function gemmRate(n: number): Promise<number> {
  const g = new Graph({ name: `gemm${n}` });
  const a = g.input('a', 'float32', [n, n]);
  const b = g.input('b', 'float32', [n, n]);
  g.output(g.op('MatMul', [a, b]), 'c', 'float32', [n, n]);
  const s = await ModelSession.create(g, { threads, cacheDir: work });
  const data = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const feeds = { a: { data, dims: [n, n] }, b: { data, dims: [n, n] } } as unknown as Record<string, Feed>;
  await s.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await s.run(feeds);
    times.push(performance.now() - t);
  }
  await s.release();
  return (2 * n ** 3) / (Math.min(...times) / 1000) / 1e9;
}

try {
  const attainable = round(await gemmRate(Number(v.gemm)));
  emit({ type: 'gemm', n: Number(v.gemm), gflops_per_s: attainable });
  const rng = new Random(0);
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  let graph: Graph;
  let feeds: Record<string, Feed>;
  if (network === 'unet') {
    const folder = path.join(v.model!, 'unet');
    const config = readUnetConfig(folder);
    graph = buildUnetGraph(config, WeightStore.openFolder(folder, { variant: 'fp16', baseName: 'diffusion_pytorch_model' }), { computeType: 'float32', attention: DEFAULT_ATTENTION });
    const [h, w] = [height / 8, width / 8];
    feeds = {
      sample: { data: normal(frames * config.inChannels * h * w), dims: [1, frames, config.inChannels, h, w] },
      timestep: { data: Float32Array.of(0.25 * Math.log(700)), dims: [] },
      encoder_hidden_states: { data: normal(config.crossAttentionDim), dims: [1, 1, config.crossAttentionDim] },
      added_time_ids: { data: Float32Array.of(6, 127, 0.02), dims: [1, config.numTimeIds] },
    } as Record<string, Feed>;
  } else {
    const folder = path.join(v.model!, 'vae');
    const config = readVaeConfig(folder);
    graph = buildVaeDecoderGraph(config, WeightStore.openFolder(folder, { variant: 'fp16', baseName: 'diffusion_pytorch_model' }), { computeType: 'float32', attention: DEFAULT_ATTENTION });
    feeds = {
      latents: { data: normal(frames * config.latentChannels * (height / 8) * (width / 8)), dims: [frames, config.latentChannels, height / 8, width / 8] },
      num_frames: { data: BigInt64Array.of(BigInt(frames)), dims: [1], type: 'int64' },
    } as Record<string, Feed>;
  }
  const prefix = path.join(work, 'trace');
  // The product's levels (src/models/svd.ts): the UNet at 'extended' on CPU (conv weights stay mapped), the VAE at 'all'.
  const level = (v.level ?? (network === 'unet' ? 'extended' : 'all')) as 'all' | 'extended' | 'basic' | 'disabled';
  const session = await ModelSession.create(graph, { threads, cacheDir: work, profilePrefix: prefix, optimization: level });
  const t = performance.now();
  await session.run(feeds);
  const forwardMs = performance.now() - t;
  session.endProfiling();
  await session.release();
  const traceFile = readdirSync(work).find((f) => f.startsWith('trace') && f.endsWith('.json'));
  if (!traceFile) throw new Error('ONNX Runtime wrote no profile');
  const events = JSON.parse(readFileSync(path.join(work, traceFile), 'utf8')) as TraceEvent[];
  const byOp = new Map<string, { us: number; n: number; flops: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const op = e.args.op_name;
    const row = byOp.get(op) ?? { us: 0, n: 0, flops: 0 };
    row.us += e.dur;
    row.n++;
    row.flops += kernelFlops(op, shapes(e.args.input_type_shape), shapes(e.args.output_type_shape));
    byOp.set(op, row);
  }
  const kernelUs = [...byOp.values()].reduce((a, r) => a + r.us, 0);
  const rows = [...byOp.entries()].sort((a, b) => b[1].us - a[1].us).map(([op, r]) => ({
    op, kernels: r.n, ms: round(r.us / 1000), share: round(r.us / kernelUs, 3),
    ...(r.flops > 0 ? {
      gflop: round(r.flops / 1e9), gflops_per_s: round(r.flops / 1e9 / (r.us / 1e6)), of_gemm: round(r.flops / 1e9 / (r.us / 1e6) / attainable, 2),
    } : {}),
  }));
  for (const r of rows) emit({ type: 'op', ...r });
  const flops = [...byOp.values()].reduce((a, r) => a + r.flops, 0);
  const arithmeticUs = [...byOp.values()].filter((r) => r.flops > 0).reduce((a, r) => a + r.us, 0);
  emit({
    summary: true, network, level: v.level ?? (network === 'unet' ? 'extended' : 'all'), frames, width, height, threads, forward_s: round(forwardMs / 1000), kernel_s: round(kernelUs / 1e6),
    counted_tflop: round(flops / 1e12, 2), gflops_per_s: round(flops / 1e9 / (forwardMs / 1000)), attainable_gflops_per_s: attainable,
    efficiency: round(flops / 1e9 / (forwardMs / 1000) / attainable, 3),
    arithmetic_share: round(arithmeticUs / kernelUs, 3), top: rows.slice(0, 6).map((r) => `${r.op} ${Math.round(r.share * 100)}%`),
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
