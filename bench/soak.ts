/**
 * The soak (docs/reliability.md §6): one real `videoshop serve` process on loopback, a bounded loop of mixed valid and
 * hostile requests from a few concurrent clients while jobs run, then the checks — every valid job done and its result
 * a video with the source's frames, nothing finished lost, the server's memory and open files back near where they
 * started.
 *
 *   node --import tsx bench/soak.ts --json [--seconds 120] [--clients 6]
 *
 * Loopback only, bounded in time and count: it stops by itself. Linux (reads /proc for RSS and file descriptors).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTinyModel } from '../src/edit/index.js';
import { rawHttp as raw } from '../tests/helpers/raw-http.js';

export interface SoakOptions {
  seconds: number;
  clients: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  seconds: number;
  requests: number;
  by_kind: Record<string, { sent: number; statuses: Record<string, number> }>;
  /** Answers a hostile request must never get (a 500, a dropped connection on a request that deserved an answer). */
  unexpected: string[];
  jobs: { submitted: number; done: number; failed: number; results_verified: number };
  finished_lost: number;
  server_alive: boolean;
  server_log_stack_traces: number;
  rss_mb: { before: number; peak: number; after: number };
  fds: { before: number; after: number };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function exec(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd}: ${err}`))));
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(path.join(tmpdir(), 'videoshop-soak-'));
  const model = path.join(dir, 'tiny');
  createTinyModel(model, { seed: 1 });
  const clip = path.join(dir, 'clip.mp4');
  const frame = path.join(dir, 'edited.png');
  await exec('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=96x64:r=12,trim=end_frame=8', '-c:v', 'libx264',
    '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
  await exec('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', clip, '-frames:v', '1', '-vf', 'drawbox=x=10:y=10:w=30:h=20:color=red:t=fill', frame]);
  const clipBytes = readFileSync(clip);
  const frameBytes = readFileSync(frame);

  const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests/helpers/run-cli.ts'), 'serve', '--port', '0', '--model', model,
    '--data-dir', path.join(dir, 'data'), '--max-upload-mb', '8', '--quota-gb', '1'],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VIDEOSHOP_CACHE: path.join(dir, 'cache'), HF_ENDPOINT: 'http://127.0.0.1:9' } });
  let stdout = '';
  let stderr = '';
  server.stdout.on('data', (c) => (stdout += c));
  server.stderr.on('data', (c) => (stderr += c));
  const base = await new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /videoshop serve: (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearInterval(t);
        resolve(m[1]);
      }
      if (server.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`serve exited: ${stderr}`));
      }
    }, 50);
  });
  const port = Number(new URL(base).port);
  const host = `127.0.0.1:${port}`;
  const pid = server.pid!;
  const report: SoakReport = {
    seconds: o.seconds, requests: 0, by_kind: {}, unexpected: [], jobs: { submitted: 0, done: 0, failed: 0, results_verified: 0 },
    finished_lost: 0, server_alive: false, server_log_stack_traces: 0, rss_mb: { before: 0, peak: 0, after: 0 }, fds: { before: 0, after: 0 },
  };
  const count = (kind: string, status: string) => {
    report.requests++;
    const k = (report.by_kind[kind] ??= { sent: 0, statuses: {} });
    k.sent++;
    k.statuses[status] = (k.statuses[status] ?? 0) + 1;
  };
  const jobForm = (options: unknown) => {
    const form = new FormData();
    form.append('video', new Blob([clipBytes]), 'clip.mp4');
    form.append('edited_frame', new Blob([frameBytes]), 'edited.png');
    form.append('options', JSON.stringify(options));
    return form;
  };
  const jobs: string[] = [];
  const finished = new Set<string>();

  // Warm up (the model loads, the test edit runs, one job), then take the baseline.
  const first = await fetch(new URL('/api/jobs', base), { method: 'POST', body: jobForm({ steps: 2 }) });
  jobs.push(((await first.json()) as { id: string }).id);
  report.jobs.submitted++;
  for (const t = Date.now(); Date.now() - t < 120_000;) {
    const j = (await (await fetch(new URL(`/api/jobs/${jobs[0]}`, base))).json()) as { status: string };
    if (j.status === 'done') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  report.rss_mb.before = rssMb(pid);
  report.fds.before = fdCount(pid);
  report.rss_mb.peak = report.rss_mb.before;

  const mp = 'multipart/form-data; boundary=x';
  const part = '--x\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n\r\n';
  const head = (method: string, target: string, extra: string[]) => [`${method} ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...extra].join('\r\n') + '\r\n\r\n';
  /** Each kind: what it sends, and the statuses a correct server may answer with. */
  const kinds: Record<string, { weight: number; run: () => Promise<string> }> = {
    health: { weight: 6, run: async () => String((await fetch(new URL('/api/health', base))).status) },
    list: { weight: 4, run: async () => String((await fetch(new URL('/api/jobs', base))).status) },
    estimate: { weight: 4, run: async () => String((await fetch(new URL('/api/estimate?frames=240&width=1920&height=1080&fps=24&options=%7B%22preview%22%3Atrue%7D', base))).status) },
    upload: {
      weight: 2, run: async () => {
        const form = new FormData();
        form.append('video', new Blob([clipBytes]), 'é中 clip.mp4');
        return String((await fetch(new URL('/api/uploads', base), { method: 'POST', body: form })).status);
      },
    },
    job: {
      weight: 1, run: async () => {
        if (jobs.length >= 12) return 'skipped';
        const r = await fetch(new URL('/api/jobs', base), { method: 'POST', body: jobForm({ steps: 2, seed: jobs.length }) });
        if (r.status === 201) {
          jobs.push(((await r.json()) as { id: string }).id);
          report.jobs.submitted++;
        }
        return String(r.status);
      },
    },
    result_range: {
      weight: 2, run: async () => {
        const id = [...finished][0] ?? jobs[0];
        return String((await fetch(new URL(`/api/jobs/${id}/result`, base), { headers: { Range: 'bytes=0-99' } })).status);
      },
    },
    events: {
      weight: 1, run: async () => {
        const c = new AbortController();
        const r = await fetch(new URL(`/api/jobs/${jobs.at(-1)}/events`, base), { signal: c.signal });
        setTimeout(() => c.abort(), 300);
        await r.body?.getReader().read().catch(() => {});
        c.abort();
        return String(r.status);
      },
    },
    unterminated_multipart: { weight: 2, run: async () => (await raw(port, head('POST', '/api/uploads', [`Content-Type: ${mp}`, `Content-Length: ${part.length + 10}`]) + part + '0123456789')).slice(9, 12) },
    huge_content_length: { weight: 2, run: async () => (await raw(port, head('POST', '/api/jobs', [`Content-Type: ${mp}`, 'Content-Length: 30000000000']) + part)).slice(9, 12) },
    huge_estimate: { weight: 2, run: async () => String((await fetch(new URL('/api/estimate?frames=1e308&width=1e9&height=1', base))).status) },
    bad_escape: { weight: 2, run: async () => String((await fetch(new URL('/api/jobs/%E0%A4%A/result', base))).status) },
    bad_options: {
      weight: 2, run: async () => String((await fetch(new URL('/api/jobs', base), { method: 'POST', body: jobForm({ crf: 1000, 'block-frames': 0 }) })).status),
    },
    not_a_video: {
      weight: 1, run: async () => {
        const form = new FormData();
        form.append('video', new Blob(['this is not a video']), 'x.mp4');
        return String((await fetch(new URL('/api/uploads', base), { method: 'POST', body: form })).status);
      },
    },
    cross_origin: { weight: 1, run: async () => String((await fetch(new URL(`/api/jobs/${jobs[0]}`, base), { method: 'DELETE', headers: { Origin: 'http://evil.example' } })).status) },
    abandoned_upload: {
      weight: 1, run: async () => {
        // Half a body, then the client goes away.
        const answer = await raw(port, head('POST', '/api/uploads', [`Content-Type: ${mp}`, 'Content-Length: 100000']) + part + 'x'.repeat(5000), 300);
        return answer === '' ? 'closed' : answer.slice(9, 12);
      },
    },
    unknown: { weight: 1, run: async () => String((await fetch(new URL('/api/../../etc/passwd', base))).status) },
  };
  const allowed: Record<string, RegExp> = {
    health: /^200$/, list: /^200$/, estimate: /^200$/, upload: /^(201|503)$/, job: /^(201|503|skipped)$/, result_range: /^(206|409)$/,
    events: /^200$/, unterminated_multipart: /^400$/, huge_content_length: /^413$/, huge_estimate: /^400$/, bad_escape: /^404$/, bad_options: /^400$/,
    not_a_video: /^400$/, cross_origin: /^403$/, abandoned_upload: /^(closed|400|408)$/, unknown: /^404$/,
  };
  const names = Object.keys(kinds);
  const total = names.reduce((s, n) => s + kinds[n].weight, 0);
  let seed = 12345;
  const pick = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    let r = (seed / 2 ** 31) * total;
    for (const n of names) if ((r -= kinds[n].weight) < 0) return n;
    return names[0];
  };
  const end = Date.now() + o.seconds * 1000;
  const sampler = setInterval(() => {
    try {
      report.rss_mb.peak = Math.max(report.rss_mb.peak, rssMb(pid));
    } catch {
      // exited: noticed below
    }
  }, 500);
  const client = async () => {
    while (Date.now() < end && server.exitCode === null) {
      const kind = pick();
      let status: string;
      try {
        status = await kinds[kind].run();
      } catch (err) {
        status = `error ${(err as Error).message}`;
      }
      count(kind, status);
      if (!allowed[kind].test(status)) report.unexpected.push(`${kind}: ${status}`);
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  clearInterval(sampler);
  log(`soak: ${report.requests} requests in ${o.seconds} s, ${jobs.length} jobs`);

  // Every valid job ends done, with a result that is a video of the source's 8 frames.
  for (const id of jobs) {
    for (const t = Date.now(); Date.now() - t < 300_000;) {
      const j = (await (await fetch(new URL(`/api/jobs/${id}`, base))).json()) as { status: string; result?: { frames: number } };
      if (j.status === 'done') {
        report.jobs.done++;
        const video = Buffer.from(await (await fetch(new URL(`/api/jobs/${id}/result`, base))).arrayBuffer());
        const file = path.join(dir, `result-${id}.mp4`);
        writeFileSync(file, video);
        const frames = await new Promise<number>((resolve) => {
          const p = spawn('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
          let out = '';
          p.stdout.on('data', (c) => (out += c));
          p.on('close', () => resolve(Number(out.trim())));
        });
        if (frames === 8) report.jobs.results_verified++;
        break;
      }
      if (j.status === 'failed' || j.status === 'cancelled') {
        report.jobs.failed++;
        report.unexpected.push(`job ${id}: ${j.status}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const listed = (await (await fetch(new URL('/api/jobs', base))).json()) as { jobs: { id: string; status: string }[] };
  report.finished_lost = jobs.filter((id) => !listed.jobs.some((j) => j.id === id && j.status === 'done')).length;
  report.server_alive = server.exitCode === null && (await fetch(new URL('/api/health', base))).status === 200;
  // Let idle sockets and timers close, then measure again.
  await new Promise((r) => setTimeout(r, 8000));
  report.rss_mb.after = rssMb(pid);
  report.fds.after = fdCount(pid);
  server.kill('SIGTERM');
  await new Promise((r) => server.once('close', r));
  report.server_log_stack_traces = (stderr.match(/^ {4}at /gm) ?? []).length;
  rmSync(dir, { recursive: true, force: true });
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, seconds: { type: 'string', default: '120' }, clients: { type: 'string', default: '6' } },
  });
  const report = await runSoak({ seconds: Number(values.seconds), clients: Number(values.clients), log: (l) => process.stderr.write(`${l}\n`) });
  if (values.json) {
    console.log(JSON.stringify(report.by_kind));
    console.log(JSON.stringify({ requests: report.requests, unexpected: report.unexpected.length, jobs: report.jobs, finished_lost: report.finished_lost,
      server_alive: report.server_alive, stack_traces: report.server_log_stack_traces, rss_mb: report.rss_mb, fds: report.fds, seconds: report.seconds }));
  } else {
    console.log(report);
  }
  process.exitCode = report.unexpected.length || report.finished_lost || !report.server_alive ? 1 : 0;
}
