/**
 * The published package serves the page: `npm pack` as a release makes it (the files list in package.json), unpacked
 * into a folder with nothing else of this repository, then `videoshop serve` started from there answers the page and
 * its script — not the clone-only 503 "the web page is not built: run `npm run setup`". The dependencies are linked
 * from this repository's node_modules (an `npm install` of the tarball would fetch the same packages from the
 * registry; tests stay off the network).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import { createWorkspace, type Workspace } from '../edit/fixtures.js';

let ws: Workspace;
before(() => {
  ws = createWorkspace('package');
});
after(() => ws?.remove());

const built = existsSync(path.join(REPO_ROOT, 'dist', 'src', 'main.js'));

test('npm pack → unpacked elsewhere → `videoshop serve` serves the page', { skip: !built && 'dist/ not built (npm run setup)', timeout: 120_000 }, async () => {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'web', 'build.mjs')], { stdio: 'ignore' });
  const packDir = ws.file('pack');
  mkdirSync(packDir);
  // --ignore-scripts: prepack would rebuild what setup built already (the same files).
  execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', packDir], { cwd: REPO_ROOT, stdio: 'ignore' });
  const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'))!;
  const installed = ws.file('installed');
  mkdirSync(installed);
  execFileSync('tar', ['-xzf', path.join(packDir, tarball), '-C', installed]);
  const pkg = path.join(installed, 'package');
  for (const f of ['web/dist/index.html', 'web/dist/app.js', 'web/dist/styles.css', 'bin/videoshop.js', 'dist/src/main.js']) {
    assert.ok(existsSync(path.join(pkg, f)), `the package holds ${f}`);
  }
  assert.ok(!existsSync(path.join(pkg, 'src')) && !existsSync(path.join(pkg, 'tests')), 'sources and tests stay out');
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');

  const child = spawn(process.execPath, [path.join(pkg, 'bin', 'videoshop.js'), 'serve', '--port', '0', '--model', ws.model, '--data-dir', ws.file('data')],
    { cwd: installed, env: { ...process.env, ...ws.env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (!url) {
      url = /^videoshop serve: (http:\/\/\S+)$/m.exec(out)?.[1];
      assert.ok(child.exitCode === null && Date.now() < deadline, `serve did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await fetch(url);
    assert.equal(page.status, 200, await page.clone().text());
    assert.match(await page.text(), /<title>Videoshop<\/title>/);
    const script = await fetch(new URL('/app.js', url));
    assert.equal(script.status, 200);
    assert.ok((await script.text()).length > 10_000, 'the page script');
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
});
