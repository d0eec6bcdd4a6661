/**
 * Measures what ONNX Runtime does with external weights: RSS after session creation and after a run, relative to the
 * weight bytes, for fp32- and fp16-stored weights and several session settings. Not a test (slow, machine-dependent):
 *
 *   node --import tsx tests/runtime/memory-bench.ts F16 all            # dtype, optimization level
 *   node --import tsx tests/runtime/memory-bench.ts F16 all session.disable_prepacking=1
 *
 * Each configuration should run in a fresh process so the peak (VmHWM) belongs to it alone.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Graph } from '../../src/onnx/graph.js';
import { linear } from '../../src/onnx/nn.js';
import { Random } from '../../src/random.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';
import { ModelSession } from '../../src/runtime/session.js';
import { repoRoot } from '../helpers/oracle.js';

const LAYERS = 48;
const WIDTH = 1024; // 48 × 1024² floats = 201 MB in float32

function status(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const m = /^(VmRSS|VmHWM|RssAnon|RssFile):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Math.round(Number(m[2]) / 1024);
  }
  return out;
}

function weightsDir(dtype: 'F32' | 'F16'): string {
  const dir = path.join(repoRoot, '.cache', 'bench-weights', dtype);
  if (existsSync(path.join(dir, 'model.safetensors'))) return dir;
  mkdirSync(dir, { recursive: true });
  const rng = new Random(7);
  const scale = 1 / Math.sqrt(WIDTH);
  const tensors = [];
  for (let i = 0; i < LAYERS; i++) {
    const data = new Float32Array(WIDTH * WIDTH);
    for (let j = 0; j < data.length; j++) data[j] = rng.normal() * scale;
    tensors.push({ name: `layers.${i}.weight`, dtype, shape: [WIDTH, WIDTH], data });
    tensors.push({ name: `layers.${i}.bias`, dtype, shape: [WIDTH], data: new Float32Array(WIDTH) });
  }
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

async function main(): Promise<void> {
  const [dtype = 'F32', level = 'all', ...configArgs] = process.argv.slice(2);
  if (dtype === 'gen') {
    weightsDir('F32');
    weightsDir('F16');
    return;
  }
  const config = Object.fromEntries(configArgs.map((a) => a.split('=') as [string, string]));
  const store = WeightStore.openFolder(weightsDir(dtype as 'F32' | 'F16'));
  const weightMB = Math.round(store.names().reduce((s, n) => s + store.info(n).byteLength, 0) / 2 ** 20);
  const g = new Graph({ name: `membench-${dtype}`, weights: store });
  let x = g.input('x', 'float32', ['n', WIDTH]);
  for (let i = 0; i < LAYERS; i++) x = linear(g, x, `layers.${i}`);
  g.output(x, 'y', 'float32', ['n', WIDTH]);
  const before = status();
  let t = performance.now();
  const s = await ModelSession.create(g, {
    optimization: level as 'all', config, cacheDir: path.join(repoRoot, '.cache', 'bench-graphs'), threads: 2,
  });
  const createMs = performance.now() - t;
  const created = status();
  const input = new Float32Array(8 * WIDTH).fill(0.5);
  t = performance.now();
  await s.run({ x: { data: input, dims: [8, WIDTH] } });
  const firstRunMs = performance.now() - t;
  t = performance.now();
  await s.run({ x: { data: input, dims: [8, WIDTH] } });
  const secondRunMs = performance.now() - t;
  const ran = status();
  console.log(JSON.stringify({
    dtype, level, config, weightMB, createMs: Math.round(createMs), firstRunMs: Math.round(firstRunMs),
    secondRunMs: Math.round(secondRunMs), before, created, ran,
  }));
}

await main();
