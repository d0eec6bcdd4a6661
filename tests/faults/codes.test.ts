/**
 * Refusals carry a stable code (library: `err.code`; CLI: `--json` → {"error": {"code", "message"}}), so programs
 * react without parsing prose; library messages name no CLI flag (the CLI adds it).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { editVideo } from '../../src/edit/edit-video.js';
import { cliInProcess } from '../helpers/cli-inprocess.js';
import { createWorkspace, firstFrame, makeVideo, type Workspace } from '../edit/fixtures.js';

let ws: Workspace;
let clip: string;
let edited: string;

before(async () => {
  ws = createWorkspace('faults-codes');
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 4 });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
});
after(() => ws?.remove());

async function jsonCode(args: string[]): Promise<{ code: string; message: string; exit: number }> {
  const r = await cliInProcess('edit', ...args, '--json', '--steps', '2');
  assert.equal(r.out.length, 1, r.err);
  const { error } = JSON.parse(r.out[0]) as { error: { code: string; message: string } };
  return { ...error, exit: r.code };
}

test('--json refusals carry the library error code', async () => {
  const dir = ws.outDir();
  const existing = path.join(dir, 'exists.mp4');
  writeFileSync(existing, 'keep');
  const base = (out: string) => [clip, '-e', edited, '-o', out, '--model', ws.model];
  const cases: [string[], string, RegExp][] = [
    [base(existing), 'output_exists', /already exists: choose another output or pass --force/],
    [base(path.join(dir, `${'y'.repeat(240)}.mp4`)), 'name_too_long', /bytes long/],
    [[...base(path.join(dir, 'a.mp4')), '--size', '64064x64064'], 'too_large', /needs about .* GB.*--size/],
    [[clip, '-e', dir, '-o', path.join(dir, 'b.mp4'), '--model', ws.model], 'not_a_file', /is a folder/],
  ];
  for (const [args, code, message] of cases) {
    const e = await jsonCode(args);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    assert.equal(e.exit, 2);
  }
  assert.equal(readFileSync(existing, 'utf8'), 'keep');
});

test('the library says what is wrong without CLI flags, with a code', async () => {
  const dir = ws.outDir();
  const existing = path.join(dir, 'exists.mp4');
  writeFileSync(existing, 'keep');
  await assert.rejects(editVideo({ video: clip, editedFrame: edited, output: existing, model: ws.model }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'output_exists');
    assert.doesNotMatch(e.message, /--/);
    assert.match(e.message, /choose another output or pass force: true to replace it$/);
    return true;
  });
  const m = ws.file('m-bad-config');
  cpSync(ws.model, m, { recursive: true });
  const cfg = path.join(m, 'vae/config.json');
  writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, 'utf8')), latent_channels: 1e6 }));
  mkdirSync(path.join(dir, 'x'));
  await assert.rejects(editVideo({ video: clip, editedFrame: edited, output: path.join(dir, 'x', 'o.mp4'), model: m }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'bad_config');
    assert.match(e.message, /vae\/config\.json: "latent_channels" is 1000000, more than 64/);
    return true;
  });
});
