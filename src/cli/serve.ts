/** `videoshop serve`: the web app and its API on this machine (src/server), until Ctrl-C. */
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_MODEL } from '../models/svd.js';
import { isLoopbackHost } from '../server/security.js';
import { startRemoteWorker } from '../server/redis-worker.js';
import { DEFAULT_MAX_UPLOAD, DEFAULT_QUOTA, startServer } from '../server/server.js';
import { parseIntArg, parseNumberArg } from './args.js';
import { UserError } from './errors.js';

interface ServeFlags {
  host: string;
  port: number;
  model: string;
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
  calibrate: boolean;
}

interface WorkerFlags {
  queue: string;
  model: string;
  device: 'cpu' | 'cuda' | 'webgpu';
  dtype?: 'float32' | 'float16';
  threads?: number;
  lockSeconds: number;
}

function defaultDataDir(): string {
  return process.env.VIDEOSHOP_DATA ?? path.join(process.env.XDG_DATA_HOME ?? path.join(homedir(), '.local', 'share'), 'videoshop');
}

export function addServeCommand(program: Command, print: (line: string) => void): void {
  program
    .command('serve')
    .description('run the Videoshop web app (upload, edit the first frame in the browser, render, compare, download) and its API')
    .option('--host <address>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', parseIntArg('--port'), 7860)
    .option('--model <id|folder>', 'Hugging Face repo id or local diffusers folder, loaded once for all jobs', DEFAULT_MODEL)
    .addOption(new Option('--device <device>', 'where the networks run').choices(['cpu', 'cuda', 'webgpu']).default('cpu'))
    .addOption(new Option('--dtype <type>', 'compute precision (default float32 on cpu, float16 on GPUs)').choices(['float32', 'float16']))
    .option('--data-dir <dir>', 'jobs, uploads and results (default $VIDEOSHOP_DATA or ~/.local/share/videoshop)')
    .option('--token <secret>', 'require this token (Authorization: Bearer, or the link printed); generated when binding beyond loopback')
    .option('--parallel <n>', 'jobs run at once, each with its own copy of the model', parseIntArg('--parallel'), 1)
    .option('--threads <n>', 'CPU threads per job', parseIntArg('--threads'))
    .option('--max-upload-mb <n>', 'largest upload accepted', parseNumberArg('--max-upload-mb'), DEFAULT_MAX_UPLOAD / 1024 ** 2)
    .option('--quota-gb <n>', 'size limit of the data folder (oldest finished jobs are removed first)', parseNumberArg('--quota-gb'), DEFAULT_QUOTA / 1024 ** 3)
    .option('--keep-days <n>', 'finished jobs older than this are removed', parseNumberArg('--keep-days'), 7)
    .option('--queue <redis-url>', 'put jobs on this Redis (BullMQ) queue for `videoshop worker`s instead of running them here')
    .option('--no-calibrate', 'skip the short test edit after loading that lets the page estimate a time before the first job')
    .action(async (flags: ServeFlags) => serve(flags, print));

  program
    .command('worker')
    .description('take jobs from the Redis queue of a `videoshop serve --queue …` (on this machine\'s GPU) and return their results')
    .requiredOption('--queue <redis-url>', 'the Redis the server was started with, e.g. redis://10.0.0.5:6379')
    .option('--model <id|folder>', 'Hugging Face repo id or local diffusers folder, loaded once', DEFAULT_MODEL)
    .addOption(new Option('--device <device>', 'where the networks run').choices(['cpu', 'cuda', 'webgpu']).default('cpu'))
    .addOption(new Option('--dtype <type>', 'compute precision (default float32 on cpu, float16 on GPUs)').choices(['float32', 'float16']))
    .option('--threads <n>', 'CPU threads', parseIntArg('--threads'))
    .option('--lock-seconds <n>', 'a job whose worker stops answering for this long is given to another worker', parseNumberArg('--lock-seconds'), 30)
    .action(async (flags: WorkerFlags) => worker(flags, print));
}

async function serve(flags: ServeFlags, print: (line: string) => void): Promise<void> {
  if (!(flags.port >= 0 && flags.port <= 65535)) throw new UserError(`--port ${flags.port}: must be between 0 and 65535`);
  if (!(flags.parallel >= 1 && flags.parallel <= 16)) throw new UserError(`--parallel ${flags.parallel}: must be between 1 and 16`);
  if (!(flags.maxUploadMb > 0) || !(flags.quotaGb > 0) || !(flags.keepDays > 0)) {
    throw new UserError('--max-upload-mb, --quota-gb and --keep-days must be positive');
  }
  if (flags.token !== undefined && !/^[\x21-\x7e]{16,}$/.test(flags.token)) {
    throw new UserError('--token must be at least 16 printable characters without spaces');
  }
  const loopback = isLoopbackHost(flags.host);
  const token = flags.token ?? (loopback ? undefined : randomBytes(18).toString('base64url'));
  const dataDir = path.resolve(flags.dataDir ?? defaultDataDir());
  let running;
  try {
    running = await startServer({
      host: flags.host, port: flags.port, dataDir, token, parallel: flags.parallel,
      worker: { model: flags.model, device: flags.device, dtype: flags.dtype, threads: flags.threads, calibrate: flags.calibrate },
      maxUploadBytes: flags.maxUploadMb * 1024 ** 2, quotaBytes: flags.quotaGb * 1024 ** 3, keepDays: flags.keepDays,
      queueUrl: flags.queue,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`port ${flags.port} on ${flags.host} is in use: pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`cannot listen on ${flags.host}: not an address of this machine`);
    if (code === 'EACCES') throw new UserError(`not allowed to listen on ${flags.host}:${flags.port} (ports below 1024 need privileges)`);
    if (/cannot reach Redis/.test((err as Error).message)) throw new UserError((err as Error).message);
    throw err;
  }
  const server = running;
  const url = token ? `${server.url}?token=${encodeURIComponent(token)}` : server.url;
  print(`videoshop serve: ${url}`);
  if (flags.token === undefined && token) print(`token (generated; API clients send "Authorization: Bearer <token>"): ${token}`);
  process.stderr.write(`${flags.queue ? `jobs on ${flags.queue} for videoshop workers` : `model ${flags.model} on ${flags.device}`}, data in ${dataDir}; Ctrl-C to stop\n`);

  const outcome = await new Promise<{ signal?: string; loadError?: string }>((resolve) => {
    process.once('SIGINT', () => resolve({ signal: 'SIGINT' }));
    process.once('SIGTERM', () => resolve({ signal: 'SIGTERM' }));
    server.queue.once('load-failed', (message: string) => resolve({ loadError: message }));
    const model = server.queue.modelState();
    if (model.state === 'failed') resolve({ loadError: model.error ?? 'unknown error' });
  });
  await server.close();
  if (outcome.loadError) throw new UserError(`cannot load the model: ${outcome.loadError}`);
}

async function worker(flags: WorkerFlags, print: (line: string) => void): Promise<void> {
  if (!/^rediss?:\/\//.test(flags.queue)) throw new UserError(`--queue ${flags.queue}: expected a redis://host:port URL`);
  if (!(flags.lockSeconds >= 2)) throw new UserError('--lock-seconds must be at least 2');
  let running;
  try {
    running = await startRemoteWorker({
      url: flags.queue, lockSeconds: flags.lockSeconds,
      worker: { model: flags.model, device: flags.device, dtype: flags.dtype, threads: flags.threads },
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    const message = (err as Error).message;
    if (/cannot reach Redis|cannot load the model/.test(message)) throw new UserError(message);
    throw err;
  }
  print(`videoshop worker ${running.id}: taking jobs from ${flags.queue} (model ${flags.model} on ${flags.device})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await running.close();
}
