/**
 * Single network calls, ours vs PyTorch's, on the same weights and inputs: the UNet at batch 1 (inversion) and
 * batch 2 (guidance), VAE encode of the clip, VAE decode of the clip, and the CLIP image encoder. PyTorch runs in
 * tests/oracle/bench_calls.py (spawned with the oracle's venv), either interleaved with ours (TorchServer: both
 * timed under the same machine load) or before ours (runTorchCalls: for models too big to hold twice in RAM).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ClipImageEmbedder } from '../../src/models/clip/index.js';
import type { SvdModel } from '../../src/models/svd.js';
import type { OnnxVideoAutoencoder } from '../../src/models/vae/index.js';
import { Random } from '../../src/random.js';
import { runtimeStats } from '../../src/runtime/session.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import { describeModel, type BenchModelSpec } from './models.js';
import { maxAbs, maxAbsDiff, median, ratio, round, summarize, type Summary } from './stats.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const ORACLE_PYTHON = path.join(REPO_ROOT, 'tests', 'oracle', '.venv', 'bin', 'python');
const SCRIPT = path.join(REPO_ROOT, 'tests', 'oracle', 'bench_calls.py');

const REPEAT_BUDGET_MS = 1000;
const MAX_RUNS = 50;

export type CallName = 'unet_batch1' | 'unet_batch2' | 'vae_encode' | 'vae_decode' | 'clip';

export interface CallSpec {
  readonly network: 'unet' | 'vae_encode' | 'vae_decode' | 'clip';
  /** Argument name → tensor name in the inputs file. */
  readonly inputs: Record<string, string>;
  readonly num_frames?: number;
  /** What the call is, for the report. */
  readonly shape: string;
}

export interface CallSet {
  readonly specs: Record<CallName, CallSpec>;
  readonly tensors: Record<string, Tensor>;
  readonly timestep: number;
}

/** The calls of one edit of `spec`'s clip, with seeded random inputs of the shapes the pipeline feeds. */
export function makeCalls(spec: BenchModelSpec): CallSet {
  const d = describeModel(spec);
  const [F, C, h, w] = d.latents;
  const unet = spec.configs.unet;
  const cross = Number(unet.cross_attention_dim);
  const inCh = Number(unet.in_channels);
  const s = d.clip.imageSize;
  const rng = new Random(1234);
  const normal = (dims: number[]) => tensor(rng.normals(dims.reduce((a, b) => a * b, 1)), dims);
  const ehs2 = normal([2, 1, cross]);
  ehs2.data.fill(0, 0, cross); // guidance's unconditional branch: zero embedding
  const tensors: Record<string, Tensor> = {
    sample1: normal([1, F, inCh, h, w]),
    ehs1: normal([1, 1, cross]),
    ids1: tensor(Float32Array.of(6, 127, 0.2), [1, 3]),
    sample2: normal([2, F, inCh, h, w]),
    ehs2,
    ids2: tensor(Float32Array.of(6, 127, 0.2, 6, 127, 0.2), [2, 3]),
    timestep: tensor(Float32Array.of(0.25 * Math.log(10)), [1]),
    frames: tensor(Float32Array.from({ length: F * 3 * spec.height * spec.width }, () => 2 * rng.uniform() - 1), [F, 3, spec.height, spec.width]),
    latents: normal([F, C, h, w]),
    pixel_values: normal([1, 3, s, s]),
  };
  const unetInputs = (b: 1 | 2) => ({ sample: `sample${b}`, timestep: 'timestep', encoder_hidden_states: `ehs${b}`, added_time_ids: `ids${b}` });
  return {
    specs: {
      unet_batch1: { network: 'unet', inputs: unetInputs(1), shape: `sample [1, ${F}, ${inCh}, ${h}, ${w}]` },
      unet_batch2: { network: 'unet', inputs: unetInputs(2), shape: `sample [2, ${F}, ${inCh}, ${h}, ${w}]` },
      vae_encode: { network: 'vae_encode', inputs: { frames: 'frames' }, shape: `frames [${F}, 3, ${spec.height}, ${spec.width}]` },
      vae_decode: { network: 'vae_decode', inputs: { latents: 'latents' }, num_frames: F, shape: `latents [${F}, ${C}, ${h}, ${w}]` },
      clip: { network: 'clip', inputs: { pixel_values: 'pixel_values' }, shape: `pixel_values [1, 3, ${s}, ${s}]` },
    },
    tensors,
    timestep: tensors.timestep.data[0],
  };
}

export interface OurCall {
  /** First call: graph build + session creation + the first run. */
  readonly firstMs: number;
  /** Of the first call, the part outside ORT's run (graph build, serialization, session creation). */
  readonly sessionMs: number;
  readonly ms: number[];
  /** Time inside ORT's run per timed call. */
  readonly runMs: number[];
  readonly output: Float32Array;
}

async function callOnce(svd: SvdModel, set: CallSet, name: CallName): Promise<Float32Array> {
  const spec = set.specs[name];
  const t = (arg: string) => set.tensors[spec.inputs[arg]];
  switch (spec.network) {
    case 'unet':
      return (await svd.models.denoiser.predict({
        sample: t('sample'), timestep: set.timestep, encoderHiddenStates: t('encoder_hidden_states'), addedTimeIds: t('added_time_ids'),
      })).data;
    case 'vae_encode':
      return (await (svd.models.vae as OnnxVideoAutoencoder).encode(t('frames'))).data;
    case 'vae_decode':
      return (await svd.models.vae.decode(t('latents'), spec.num_frames!)).data;
    case 'clip':
      return (await (svd.models.imageEmbedder as ClipImageEmbedder).embedPixels(t('pixel_values'))).data;
  }
}

/** PyTorch's side of an interleaved measurement (see TorchServer). */
export interface Partner {
  /** Untimed runs of `name` before the timed ones. */
  warm(name: CallName, times: number): Promise<void>;
  /** One timed run of `name`. */
  once(name: CallName): Promise<void>;
}

/**
 * Our side: per call `warmups` untimed runs (the first builds the session) and at least `repeats` timed ones. With a
 * partner, its runs alternate with ours (partner warm-up, ours, then ours/partner in turns) so that both are timed
 * under the same load of a shared machine.
 */
export async function runOurCalls(
  svd: SvdModel, set: CallSet, warmups: number, repeats: number, log: (m: string) => void, partner?: Partner,
): Promise<Record<CallName, OurCall>> {
  const out = {} as Record<CallName, OurCall>;
  for (const name of Object.keys(set.specs) as CallName[]) {
    await partner?.warm(name, warmups);
    let r0 = runtimeStats.runMs;
    let t0 = performance.now();
    const output = await callOnce(svd, set, name);
    const firstMs = performance.now() - t0;
    const sessionMs = firstMs - (runtimeStats.runMs - r0);
    for (let i = 1; i < warmups; i++) await callOnce(svd, set, name);
    const ms: number[] = [];
    const runMs: number[] = [];
    // At least `repeats` runs; fast calls repeat for up to 1 s (as bench_calls.py does): the machine is shared.
    const start = performance.now();
    while (ms.length < repeats || (performance.now() - start < REPEAT_BUDGET_MS && ms.length < MAX_RUNS)) {
      r0 = runtimeStats.runMs;
      t0 = performance.now();
      await callOnce(svd, set, name);
      ms.push(performance.now() - t0);
      runMs.push(runtimeStats.runMs - r0);
      await partner?.once(name);
    }
    log(`ours ${name}: first ${firstMs.toFixed(0)} ms, median ${median(ms).toFixed(1)} ms`);
    out[name] = { firstMs, sessionMs, ms, runMs, output };
  }
  return out;
}

export interface TorchResults {
  readonly torch: string;
  readonly threads: number;
  readonly load_ms: Record<string, number>;
  readonly peak_rss_mb: number;
  readonly calls: Record<CallName, { first_ms: number; ms: number[]; median_ms: number | null }>;
  readonly outputs: Record<CallName, Float32Array>;
}

export interface TorchOptions {
  readonly threads: number;
  readonly warmups: number;
  readonly repeats: number;
  readonly device: string;
  /** Compute type per network, as ours computes (SVD's VAE stays float32 under float16: force_upcast). */
  readonly dtypes: { unet: string; vae: string; clip: string };
}

function prepareTorchDir(set: CallSet, modelFolder: string, dir: string, opts: TorchOptions, serve: boolean): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'inputs.safetensors'),
    Object.entries(set.tensors).map(([name, t]) => ({ name, dtype: 'F32' as const, shape: [...t.dims], data: t.data })));
  const calls = Object.fromEntries(Object.entries(set.specs).map(([k, s]) => [k, { network: s.network, inputs: s.inputs, num_frames: s.num_frames }]));
  writeFileSync(path.join(dir, 'request.json'), JSON.stringify({
    model: modelFolder, threads: opts.threads, warmups: opts.warmups, repeats: opts.repeats, serve, device: opts.device, dtypes: opts.dtypes, calls,
  }, null, 1));
}

function torchEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
}

function readTorchResults(set: CallSet, dir: string): TorchResults {
  const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as Omit<TorchResults, 'outputs'>;
  const store = WeightStore.openFiles([path.join(dir, 'outputs.safetensors')]);
  const outputs = Object.fromEntries(Object.keys(set.specs).map((k) => [k, store.readFloat32(k)])) as Record<CallName, Float32Array>;
  return { ...results, outputs };
}

/** Batch mode: bench_calls.py times every call by itself, before we load anything (for models too big to hold twice). */
export async function runTorchCalls(set: CallSet, modelFolder: string, dir: string, opts: TorchOptions): Promise<TorchResults | string> {
  if (!existsSync(ORACLE_PYTHON)) return `${ORACLE_PYTHON} is missing (create it with \`bash tests/oracle/run.sh\`)`;
  prepareTorchDir(set, modelFolder, dir, opts, false);
  const code = await new Promise<number | null>((resolve, reject) => {
    // The child's stdout goes to our stderr: stdout carries only the bench's JSON.
    const child = spawn(ORACLE_PYTHON, [SCRIPT, dir], { stdio: ['ignore', 2, 'inherit'], env: torchEnv(opts.threads) });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) return `bench_calls.py exited with code ${code} (its messages are above on stderr)`;
  return readTorchResults(set, dir);
}

/** Serve mode: bench_calls.py answers one command per line, so its runs can alternate with ours. */
export class TorchServer implements Partner {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly replies: ((line: string) => void)[] = [];
  private exited: string | null = null;

  private constructor(private readonly set: CallSet, private readonly dir: string, threads: number) {
    this.child = spawn(ORACLE_PYTHON, [SCRIPT, dir], { stdio: ['pipe', 'pipe', 'inherit'], env: torchEnv(threads) });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.replies.shift()?.(line));
    this.child.on('exit', (code) => {
      this.exited = `bench_calls.py exited with code ${code}`;
      for (const r of this.replies.splice(0)) r('');
    });
  }

  /** Starts bench_calls.py in serve mode; resolves once it has imported torch and read the inputs. */
  static async start(set: CallSet, modelFolder: string, dir: string, opts: TorchOptions): Promise<TorchServer | string> {
    if (!existsSync(ORACLE_PYTHON)) return `${ORACLE_PYTHON} is missing (create it with \`bash tests/oracle/run.sh\`)`;
    prepareTorchDir(set, modelFolder, dir, opts, true);
    const server = new TorchServer(set, dir, opts.threads);
    const ready = await server.reply();
    return ready.ready ? server : server.exited ?? 'bench_calls.py did not start';
  }

  private reply(command?: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.replies.push((line) => {
        if (!line) reject(new Error(`${this.exited ?? 'bench_calls.py closed its output'} (its messages are above on stderr)`));
        else resolve(JSON.parse(line) as Record<string, unknown>);
      });
      if (command !== undefined) this.child.stdin.write(`${JSON.stringify(command)}\n`);
    });
  }

  async warm(name: CallName, times: number): Promise<void> {
    await this.reply({ call: name, times, record: false });
  }

  async once(name: CallName): Promise<void> {
    await this.reply({ call: name, times: 1 });
  }

  /** Writes PyTorch's results and outputs, waits for the process to end, and reads them. */
  async finish(): Promise<TorchResults> {
    const exit = new Promise((resolve) => this.child.once('exit', resolve));
    await this.reply({ finish: true });
    this.child.stdin.end();
    await exit;
    return readTorchResults(this.set, this.dir);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

export interface CallReport {
  readonly what: string;
  readonly ours_ms: Summary | null;
  /** Of ours, the median time inside ORT's run (the rest is input/output conversion and checks). */
  readonly ours_ort_run_ms: number;
  readonly ours_first_call_ms: number;
  readonly theirs_ms: Summary | null;
  /** theirs_ms / ours_ms (medians): > 1 means we are faster. */
  readonly speedup: number | null;
  /** The same from the fastest runs (less sensitive to other processes on a shared machine). */
  readonly speedup_min: number | null;
  readonly max_abs_diff: number | null;
  readonly max_abs_output: number;
  readonly agree: boolean | null;
}

export function reportCalls(set: CallSet, ours: Record<CallName, OurCall>, torch: TorchResults | null, tolerance: number): Record<CallName, CallReport> {
  const out = {} as Record<CallName, CallReport>;
  for (const name of Object.keys(set.specs) as CallName[]) {
    const o = ours[name];
    const theirs = torch?.calls[name];
    const diff = torch ? maxAbsDiff(o.output, torch.outputs[name]) : null;
    out[name] = {
      what: set.specs[name].shape,
      ours_ms: summarize(o.ms),
      ours_ort_run_ms: round(median(o.runMs)),
      ours_first_call_ms: round(o.firstMs),
      theirs_ms: theirs ? summarize(theirs.ms) : null,
      speedup: theirs ? ratio(median(theirs.ms) / median(o.ms)) : null,
      speedup_min: theirs ? ratio(Math.min(...theirs.ms) / Math.min(...o.ms)) : null,
      max_abs_diff: diff === null ? null : Number(diff.toPrecision(3)),
      max_abs_output: Number(maxAbs(o.output).toPrecision(4)),
      agree: diff === null ? null : diff <= tolerance,
    };
  }
  return out;
}
