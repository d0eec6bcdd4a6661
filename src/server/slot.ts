/**
 * One inference worker process with its model loaded: runs one job at a time. A worker that dies (a crash in native
 * code, out of memory, killed) fails its job with the reason and is started again.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { EditProgress, MeasuredPace, MessagePart, ModelGeometry, SerializedError } from '../edit/index.js';
import type { FromWorker, JobResult, ToWorker, WorkerConfig } from './worker-protocol.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_FILE = fileURLToPath(new URL(`./inference-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url));

/** In dist/ the worker is the compiled .js; under tsx (tests, development) the .ts source, run through tsx too. */
function newWorker(config: WorkerConfig): ChildProcess {
  return fork(WORKER_FILE, [], {
    execArgv: FROM_SOURCE ? ['--import', import.meta.resolve('tsx')] : [],
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, VIDEOSHOP_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Warnings come as message parts (src/util/errors.ts): the API words them. */
export type RunOutcome =
  | { kind: 'done'; result: JobResult; warnings: MessagePart[][] }
  | { kind: 'failed'; error: SerializedError; warnings: MessagePart[][] }
  | { kind: 'cancelled'; warnings: MessagePart[][] };

export interface RunHandlers {
  onProgress(p: EditProgress): void;
}

export type SlotState = 'loading' | 'ready' | 'busy' | 'failed' | 'stopped';

export class InferenceSlot extends EventEmitter {
  state: SlotState = 'loading';
  loadError: SerializedError | null = null;
  model: { folder: string; device: string; dtype: string; geometry: ModelGeometry } | null = null;
  current: string | null = null;
  /** The pace of the worker's test edit after loading (null until it is done, or when it was skipped or failed). */
  pace: MeasuredPace | null = null;
  private worker: ChildProcess;
  private finishRun: ((o: RunOutcome) => void) | null = null;
  private warnings: MessagePart[][] = [];
  private handlers: RunHandlers | null = null;
  private cancelled = false;
  /** Runs started, to tell one run of a job from the next. */
  private runs = 0;

  constructor(private readonly config: WorkerConfig) {
    super();
    this.worker = this.spawn();
  }

  /** The worker process's id (it changes only when a worker died and was replaced). */
  get pid(): number | undefined {
    return this.worker.pid;
  }

  private spawn(): ChildProcess {
    this.state = 'loading';
    const worker = newWorker(this.config);
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.onExit(worker, `the inference worker failed: ${err.message}`));
    worker.on('exit', (code, signal) => this.onExit(worker, `the inference worker died (${signal ? `signal ${signal}` : `exit code ${code}`})`));
    return worker;
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'loading':
        this.emit('loading', m.progress);
        break;
      case 'ready':
        this.state = 'ready';
        this.model = { folder: m.folder, device: m.device, dtype: m.dtype, geometry: m.geometry };
        this.emit('ready');
        break;
      case 'load-failed':
        this.state = 'failed';
        this.loadError = m.error;
        this.emit('load-failed', m.error);
        break;
      case 'calibrated':
        this.pace = m.pace;
        break;
      case 'calibration-failed':
        // Not fatal: estimates wait for the first finished job instead.
        console.error(`videoshop serve: the test edit for time estimates failed: ${m.message}`);
        break;
      case 'progress':
        if (m.id === this.current) this.handlers?.onProgress(m.progress);
        break;
      case 'warning':
        if (m.id === this.current) this.warnings.push(m.parts);
        break;
      case 'done':
        this.settle({ kind: 'done', result: m.result, warnings: this.warnings });
        break;
      case 'failed':
        this.settle(m.cancelled || this.cancelled ? { kind: 'cancelled', warnings: this.warnings } : { kind: 'failed', error: m.error, warnings: this.warnings });
        break;
    }
  }

  private onExit(worker: ChildProcess, reason: string): void {
    // 'error' is followed by 'exit': only the first event of the current worker counts.
    if (worker !== this.worker || this.state === 'stopped' || this.state === 'failed') return;
    const wasCancelled = this.cancelled;
    this.settle(wasCancelled ? { kind: 'cancelled', warnings: this.warnings }
      : { kind: 'failed', error: { code: 'worker_died', message: reason }, warnings: this.warnings });
    // Start a fresh worker (the model loads again) so the queue goes on.
    this.worker.removeAllListeners();
    this.worker = this.spawn();
  }

  private settle(outcome: RunOutcome): void {
    const finish = this.finishRun;
    this.finishRun = null;
    this.current = null;
    this.handlers = null;
    this.cancelled = false;
    if (this.state === 'busy') this.state = 'ready';
    finish?.(outcome);
  }

  run(id: string, request: Extract<ToWorker, { type: 'run' }>['request'], handlers: RunHandlers): Promise<RunOutcome> {
    if (this.state !== 'ready') throw new Error(`internal: slot is ${this.state}`);
    this.state = 'busy';
    this.current = id;
    this.runs++;
    this.handlers = handlers;
    this.warnings = [];
    return new Promise((resolve) => {
      this.finishRun = resolve;
      this.worker.send({ type: 'run', id, request } satisfies ToWorker);
    });
  }

  /**
   * Asks the running edit to stop (it checks between network calls); a worker that has not stopped after
   * `hardAfterMs` is terminated, which costs a model reload but never waits on a long UNet call.
   */
  cancel(id: string, hardAfterMs = 15_000): void {
    if (this.current !== id) return;
    this.cancelled = true;
    this.worker.send({ type: 'cancel', id } satisfies ToWorker);
    const worker = this.worker;
    // This run, not the next one: a job lost and queued again can come back to this slot under the same id.
    const run = this.runs;
    const timer = setTimeout(() => {
      if (this.runs === run && this.current === id && this.worker === worker) worker.kill('SIGKILL');
    }, hardAfterMs);
    timer.unref();
  }

  /**
   * Stops the worker (a job it runs is the owner's to re-queue): it is asked to stop what runs and clean up its files
   * (the test edit's clip, a job's temporary output), and killed if it has not ended after `graceMs`.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.state = 'stopped';
    const worker = this.worker;
    worker.removeAllListeners();
    worker.on('error', () => {}); // a worker that died meanwhile cannot take the message
    this.settle({ kind: 'cancelled', warnings: this.warnings });
    if (worker.exitCode !== null || worker.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => worker.kill('SIGKILL'), graceMs);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (worker.connected) worker.send({ type: 'stop' } satisfies ToWorker, (err) => { if (err) worker.kill('SIGKILL'); });
      else worker.kill('SIGKILL');
    });
  }
}
