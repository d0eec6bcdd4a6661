/**
 * The page's weight and first paint (`node --import tsx bench/web.ts --json`): the built files' sizes (raw and
 * gzip, as a server would send them compressed), then, in Debian's Chromium against a real `videoshop serve`
 * (in-process, the tiny random model), the first contentful paint and the time until the page is usable
 * (body[data-ready]), cold (a new browser context each run), at desktop size and on a phone viewport with the
 * network throttled to "fast 3G" (1.6 Mbit/s down, 150 ms). One JSON line per measurement, the summary last.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from '../src/server/server.js';
import { createWorkspace } from '../tests/edit/fixtures.js';
import { REPO_ROOT } from '../tests/helpers/cli.js';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 5);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

execFileSync(process.execPath, [path.join(REPO_ROOT, 'web', 'build.mjs')], { stdio: 'ignore' });
const dist = path.join(REPO_ROOT, 'web', 'dist');
const files: Record<string, { bytes: number; gzip_bytes: number }> = {};
for (const f of readdirSync(dist).filter((f) => !f.endsWith('.map') && !f.endsWith('.txt'))) {
  const body = readFileSync(path.join(dist, f));
  files[f] = { bytes: statSync(path.join(dist, f)).size, gzip_bytes: gzipSync(body).length };
  console.log(JSON.stringify({ file: f, ...files[f] }));
}
const pageFiles = ['index.html', 'app.js', 'styles.css', 'favicon.svg'];
const pageBytes = pageFiles.reduce((s, f) => s + (files[f]?.bytes ?? 0), 0);
const pageGzip = pageFiles.reduce((s, f) => s + (files[f]?.gzip_bytes ?? 0), 0);

const ws = createWorkspace('bench-web');
const srv = await startServer({ host: '127.0.0.1', port: 0, dataDir: ws.file('data'), worker: { model: ws.model, device: 'cpu', calibrate: false } });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results: Record<string, { fcp_ms: number; ready_ms: number }> = {};
try {
  for (const profile of ['desktop', 'phone-3g'] as const) {
    const fcp: number[] = [];
    const ready: number[] = [];
    for (let i = 0; i < runs; i++) {
      const phone = profile === 'phone-3g';
      const context = await browser.newContext(phone
        ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
        : { viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      if (phone) {
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 });
      }
      await page.goto(srv.url);
      await page.waitForSelector('body[data-ready=true]');
      const t = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        now: performance.now(),
      }));
      fcp.push(t.fcp);
      ready.push(t.now);
      await context.close();
    }
    results[profile] = { fcp_ms: Math.round(median(fcp)), ready_ms: Math.round(median(ready)) };
    console.log(JSON.stringify({ profile, runs, fcp_ms: fcp.map(Math.round), ready_ms: ready.map(Math.round) }));
  }
} finally {
  await browser.close();
  await srv.close();
  ws.remove();
}
console.log(JSON.stringify({
  summary: true, page_bytes: pageBytes, page_gzip_bytes: pageGzip, app_js_bytes: files['app.js']?.bytes, framework: 'none (Konva for the canvas)',
  desktop_fcp_ms: results.desktop.fcp_ms, desktop_ready_ms: results.desktop.ready_ms,
  phone_3g_fcp_ms: results['phone-3g'].fcp_ms, phone_3g_ready_ms: results['phone-3g'].ready_ms,
}));
