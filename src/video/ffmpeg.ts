/** Locating and running the system ffmpeg / ffprobe binaries (spawned directly, never through a shell). */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { VideoshopError } from '../util/errors.js';

const INSTALL_HINT = '(Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg)';

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(name: string): string | undefined {
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function fromEnv(variable: string): string | undefined {
  const value = process.env[variable];
  if (!value) return undefined;
  if (!isExecutable(value)) throw new VideoshopError('bad_input', `${variable}=${value} is not an executable file`);
  return value;
}

/** Path of the ffmpeg binary: $FFMPEG_PATH, else the first `ffmpeg` on PATH. */
export function ffmpegPath(): string {
  const found = fromEnv('FFMPEG_PATH') ?? searchPath('ffmpeg');
  if (!found) throw new VideoshopError('bad_input', `ffmpeg not found: install it ${INSTALL_HINT} or set FFMPEG_PATH`);
  return found;
}

/** Path of ffprobe: $FFPROBE_PATH, else next to $FFMPEG_PATH, else the first `ffprobe` on PATH. */
export function ffprobePath(): string {
  const explicit = fromEnv('FFPROBE_PATH');
  if (explicit) return explicit;
  const ffmpegEnv = process.env.FFMPEG_PATH;
  if (ffmpegEnv) {
    const sibling = path.join(path.dirname(ffmpegEnv), path.basename(ffmpegEnv).replace(/ffmpeg/i, 'ffprobe'));
    if (sibling !== ffmpegEnv && isExecutable(sibling)) return sibling;
  }
  const found = searchPath('ffprobe');
  if (!found) throw new VideoshopError('bad_input', `ffprobe not found: install ffmpeg ${INSTALL_HINT} or set FFPROBE_PATH`);
  return found;
}

/**
 * A path as ffmpeg/ffprobe must see it: always a file. Absolute, so a name starting with '-' is not an option, and
 * behind the `file:` protocol, so a name like `http:x` or `concat:a|b` is not a protocol.
 */
export function fileArg(file: string): string {
  return `file:${path.resolve(file)}`;
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const STDERR_KEEP = 64 * 1024;

/** Keeps the tail of a child's stderr (ffmpeg can be chatty) for error messages. */
export class StderrTail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > STDERR_KEEP) this.text = this.text.slice(-STDERR_KEEP);
  }
  toString(): string {
    return this.text;
  }
}

/** Runs a tool to completion and collects its output (for ffprobe and short ffmpeg jobs). */
export function runTool(bin: string, args: readonly string[], signal?: AbortSignal): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    const err = new StderrTail();
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: err.toString() }));
  });
}

/** The most telling line of an ffmpeg/ffprobe stderr: the last meaningful one, without the `[demuxer @ 0x…]` prefix. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').trim())
    .filter((l) => l && !/^Conversion failed!?$/.test(l)); // ffmpeg's generic sign-off says nothing
  return lines.at(-1) ?? 'no error message';
}

let fpsModeArgs: string[] | undefined;

/**
 * Arguments that keep every decoded/encoded frame exactly once (no drop, no duplicate).
 * `-fps_mode` arrived in ffmpeg 5.1; older builds only know the (now deprecated) `-vsync`.
 */
export async function passthroughArgs(): Promise<string[]> {
  if (fpsModeArgs) return fpsModeArgs;
  const { stdout } = await runTool(ffmpegPath(), ['-hide_banner', '-version']);
  const m = /version n?(\d+)\.(\d+)/.exec(stdout);
  const old = m !== null && (Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 1));
  fpsModeArgs = old ? ['-vsync', 'passthrough'] : ['-fps_mode', 'passthrough'];
  return fpsModeArgs;
}
