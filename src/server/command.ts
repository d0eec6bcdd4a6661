/**
 * The server's commands, `videoshop serve` (the web app and its API on this machine, until Ctrl-C) and `videoshop
 * worker` (jobs from a Redis queue). src/main.ts adds them to the CLI's program; refusals are VideoshopErrors, which
 * the CLI prints as one line.
 */
import { randomBytes } from 'node:crypto';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_MODEL, VideoshopError } from '../edit/index.js';
import { isLoopbackHost } from './security.js';
import { startRemoteWorker } from './redis-worker.js';
import { DEFAULT_MAX_UPLOAD, DEFAULT_QUOTA, startServer } from './server.js';

/** `--port <n>` and friends: a bad value is one line naming the flag. */
function numberArg(flag: string, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new VideoshopError('bad_option', `--${flag} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}
const intArg = (flag: string) => numberArg(flag, true);

interface ServeFlags {
  host: string;
  port: number;
  model: string;
  unet?: string;
  device: 'cpu' | 'cuda' | 'webgpu';
  dtype?: 'float32' | 'float16';
  dataDir: string;
  token?: string;
  parallel: number;
  threads?: number;
  maxUploadMb: number;
  quotaGb: number;
  keepDays: number;
  queue?: string;
  publicUrl?: string;
  calibrate: boolean;
}

interface WorkerFlags {
  queue: string;
  model: string;
  unet?: string;
  device: 'cpu' | 'cuda' | 'webgpu';
  dtype?: 'float32' | 'float16';
  threads?: number;
  lockSeconds: number;
}

function defaultDataDir(): string {
  return process.env.VIDEOSHOP_DATA || path.join(process.env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'videoshop');
}

/** The jobs' UNet is the operator's choice, never a job's (see job-options.ts). */
const UNET_HELP = "replace the model's UNet weights with this diffusers-keyed .safetensors file (local, or a Hub org/name/file) for every job";

/** Adds `serve` and `worker` to the program. */
export function addServerCommands(program: Command, print: (line: string) => void): void {
  program
    .command('serve')
    .description('run the Videoshop web app (upload, edit the first frame in the browser, render, compare, download) and its API')
    .option('--host <address>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', intArg('port'), 7860)
    .option('--model <id|folder>', 'Hugging Face repo id or local diffusers folder, loaded once for all jobs', DEFAULT_MODEL)
    .option('--unet <file|hub-id/file>', UNET_HELP)
    .addOption(new Option('--device <device>', 'where the networks run').choices(['cpu', 'cuda', 'webgpu']).default('cpu'))
    .addOption(new Option('--dtype <type>', 'compute precision (default float32 on cpu, float16 on GPUs)').choices(['float32', 'float16']))
    .option('--data-dir <dir>', 'jobs, uploads and results (default $VIDEOSHOP_DATA or ~/.local/share/videoshop)')
    .option('--token <secret>', 'require this token (Authorization: Bearer, or the link printed); generated when binding beyond loopback')
    .option('--parallel <n>', 'jobs run at once, each with its own copy of the model', intArg('parallel'), 1)
    .option('--threads <n>', 'CPU threads per job', intArg('threads'))
    .option('--max-upload-mb <n>', 'largest upload accepted', numberArg('max-upload-mb'), DEFAULT_MAX_UPLOAD / 1024 ** 2)
    .option('--quota-gb <n>', 'size limit of the data folder (oldest finished jobs are removed first)', numberArg('quota-gb'), DEFAULT_QUOTA / 1024 ** 3)
    .option('--keep-days <n>', 'finished jobs older than this are removed', numberArg('keep-days'), 7)
    .option('--queue <redis-url>', 'put jobs on this Redis (BullMQ) queue for `videoshop worker`s instead of running them here')
    .option('--public-url <url>', 'with --queue: the address workers reach this server at (default http://<this host>:<port>/)')
    .option('--no-calibrate', 'skip the short test edit after loading that lets the page estimate a time before the first job')
    .action(async (flags: ServeFlags) => serve(flags, print));

  program
    .command('worker')
    .description('take jobs from the Redis queue of a `videoshop serve --queue …` (on this machine\'s GPU) and return their results')
    .requiredOption('--queue <redis-url>', 'the Redis the server was started with, e.g. redis://10.0.0.5:6379')
    .option('--model <id|folder>', 'Hugging Face repo id or local diffusers folder, loaded once', DEFAULT_MODEL)
    .option('--unet <file|hub-id/file>', UNET_HELP)
    .addOption(new Option('--device <device>', 'where the networks run').choices(['cpu', 'cuda', 'webgpu']).default('cpu'))
    .addOption(new Option('--dtype <type>', 'compute precision (default float32 on cpu, float16 on GPUs)').choices(['float32', 'float16']))
    .option('--threads <n>', 'CPU threads', intArg('threads'))
    .option('--lock-seconds <n>', 'a job whose worker stops answering for this long is given to another worker', numberArg('lock-seconds'), 30)
    .action(async (flags: WorkerFlags) => worker(flags, print));
}

/** Signals that stop the server cleanly; any that come while it stops are ignored (a second one is no crash). */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** Resolves at the first stop signal, and from then on swallows them all (until `release`). */
function untilStopSignal(): { stopped: Promise<NodeJS.Signals>; release(): void } {
  let resolve!: (s: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const handler = (signal: NodeJS.Signals) => resolve(signal);
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return { stopped, release: () => { for (const s of STOP_SIGNALS) process.off(s, handler); } };
}

/** The last line of defence of a long-running process: an error no handler caught is logged as one line, not fatal. */
function survive(label: string): () => void {
  const onError = (err: unknown) => console.error(`${label}: unexpected error (the server goes on): ${(err as Error)?.message ?? String(err)}`);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
}

async function serve(flags: ServeFlags, print: (line: string) => void): Promise<void> {
  if (!(flags.port >= 0 && flags.port <= 65535)) throw new VideoshopError('bad_option', `--port ${flags.port}: must be between 0 and 65535`);
  if (!(flags.parallel >= 1 && flags.parallel <= 16)) throw new VideoshopError('bad_option', `--parallel ${flags.parallel}: must be between 1 and 16`);
  if (!(flags.maxUploadMb > 0) || !(flags.quotaGb > 0) || !(flags.keepDays > 0)) {
    throw new VideoshopError('bad_option', '--max-upload-mb, --quota-gb and --keep-days must be positive');
  }
  if (flags.token !== undefined && !/^[\x21-\x7e]{16,}$/.test(flags.token)) {
    throw new VideoshopError('bad_option', '--token must be at least 16 printable characters without spaces');
  }
  if (flags.publicUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(flags.publicUrl)) {
    throw new VideoshopError('bad_option', `--public-url ${flags.publicUrl}: expected http://host:port/`);
  }
  const loopback = isLoopbackHost(flags.host);
  const token = flags.token ?? (loopback ? undefined : randomBytes(18).toString('base64url'));
  const dataDir = path.resolve(flags.dataDir ?? defaultDataDir());
  const signals = untilStopSignal();
  let server;
  try {
    server = await startServer({
      host: flags.host, port: flags.port, dataDir, token, parallel: flags.parallel,
      worker: { model: flags.model, unet: flags.unet, device: flags.device, dtype: flags.dtype, threads: flags.threads, calibrate: flags.calibrate },
      maxUploadBytes: flags.maxUploadMb * 1024 ** 2, quotaBytes: flags.quotaGb * 1024 ** 3, keepDays: flags.keepDays,
      queueUrl: flags.queue, publicUrl: flags.publicUrl ?? publicUrlFor(flags.host, flags.port),
    });
  } catch (err) {
    signals.release();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new VideoshopError('port_in_use', `port ${flags.port} on ${flags.host} is in use: pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new VideoshopError('bad_option', `cannot listen on ${flags.host}: not an address of this machine`);
    if (code === 'EACCES') throw new VideoshopError('bad_option', `not allowed to listen on ${flags.host}:${flags.port} (ports below 1024 need privileges)`);
    if (code === 'bad_data_dir') throw new VideoshopError('bad_data_dir', (err as Error).message);
    if (/cannot reach Redis/.test((err as Error).message)) throw new VideoshopError('redis_unreachable', (err as Error).message);
    throw err;
  }
  const running = server;
  const unguard = survive('videoshop serve');
  const url = token ? `${running.url}?token=${encodeURIComponent(token)}` : running.url;
  print(`videoshop serve: ${url}`);
  if (flags.token === undefined && token) print(`token (generated; API clients send "Authorization: Bearer <token>"): ${token}`);
  process.stderr.write(`${flags.queue ? `jobs on ${flags.queue} for videoshop workers` : `model ${flags.model} on ${flags.device}`}, data in ${dataDir}; Ctrl-C to stop\n`);

  const loadError = await Promise.race([
    signals.stopped.then(() => undefined),
    new Promise<string>((resolve) => running.queue.onLoadFailed((e) => resolve(e.message))),
  ]);
  try {
    await running.close();
  } finally {
    unguard();
    signals.release();
  }
  if (loadError) throw new VideoshopError('bad_model', `cannot load the model: ${loadError}`);
}

/** Where remote workers reach a server listening on host:port (a wildcard address means this machine's name). */
function publicUrlFor(host: string, port: number): string | undefined {
  if (port === 0) return undefined;
  const name = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}/`;
}

async function worker(flags: WorkerFlags, print: (line: string) => void): Promise<void> {
  if (!/^rediss?:\/\//.test(flags.queue)) throw new VideoshopError('bad_option', `--queue ${flags.queue}: expected a redis://host:port URL`);
  if (!(flags.lockSeconds >= 2)) throw new VideoshopError('bad_option', '--lock-seconds must be at least 2');
  const signals = untilStopSignal();
  let running;
  try {
    running = await startRemoteWorker({
      url: flags.queue, lockSeconds: flags.lockSeconds,
      worker: { model: flags.model, unet: flags.unet, device: flags.device, dtype: flags.dtype, threads: flags.threads },
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    signals.release();
    const message = (err as Error).message;
    if (/cannot reach Redis/.test(message)) throw new VideoshopError('redis_unreachable', message);
    if (/cannot load the model/.test(message)) throw new VideoshopError('bad_model', message);
    throw err;
  }
  const unguard = survive('videoshop worker');
  print(`videoshop worker ${running.id}: taking jobs from ${flags.queue} (model ${flags.model} on ${flags.device})`);
  await signals.stopped;
  try {
    await running.close();
  } finally {
    unguard();
    signals.release();
  }
}
