/**
 * `--unet <file|hub-id/file>`: the swap path is exact (the toy's own UNet file gives the toy's output bit for bit),
 * a file of another architecture, another size, a truncated file or a Hub id without a file is refused with one line
 * (exit 2) before any large download, and Hub files come through the loopback mock Hub with the models' cache rules.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VideoshopError } from '../../src/edit/index.js';
import { loadSvd } from '../../src/models/svd.js';
import { createTinyModel } from '../../src/models/tiny.js';
import { toyModelFolder } from '../../src/models/toy.js';
import { writeSafetensors } from '../../src/safetensors/write.js';
import { tensor } from '../../src/tensor.js';
import { assertRefused, cliInProcess } from '../helpers/cli-inprocess.js';
import { firstFrame, makeVideo } from '../edit/fixtures.js';
import { isLfs } from '../hub/fixtures.js';
import { startMockHub, type MockHub } from '../hub/mock-hub.js';

const TOY_UNET = path.join(toyModelFolder(), 'unet', 'diffusion_pytorch_model.safetensors');
const LCM_REPO = 'wangfuyun/AnimateLCM-SVD-xt';
const LCM_FILE = 'AnimateLCM-SVD-xt.safetensors';
const COMMIT = 'c'.repeat(40);

let dir: string;
let hub: MockHub;
let clip: string;
let edited: string;
/** Files of another architecture and size, a truncated one. */
const bad: Record<string, string> = {};

/** An image UNet's first weights in diffusers keys (SD 1.5's names, tiny shapes): no temporal layers. */
function sd15Like(file: string): void {
  const t = (name: string, shape: number[]) => ({ name, dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  writeSafetensors(file, [
    t('conv_in.weight', [32, 4, 3, 3]), t('conv_in.bias', [32]),
    t('down_blocks.0.resnets.0.conv1.weight', [32, 32, 3, 3]), t('down_blocks.0.resnets.0.conv1.bias', [32]),
    t('time_embedding.linear_1.weight', [128, 32]),
  ]);
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'videoshop-unet-file-'));
  process.env.VIDEOSHOP_CACHE = path.join(dir, 'graphs');
  bad.sd15 = path.join(dir, 'sd15-unet.safetensors');
  sd15Like(bad.sd15);
  const tiny = path.join(dir, 'tiny');
  createTinyModel(tiny, { seed: 2 });
  bad.otherSize = path.join(tiny, 'unet', 'diffusion_pytorch_model.safetensors');
  bad.truncated = path.join(dir, 'truncated.safetensors');
  copyFileSync(TOY_UNET, bad.truncated);
  truncateSync(bad.truncated, Math.floor(readFileSync(TOY_UNET).length / 2));
  clip = await makeVideo(path.join(dir, 'clip.mp4'), { frames: 8, size: '128x72' });
  edited = await firstFrame(clip, path.join(dir, 'edited.png'), { box: true });
  const sd15Bytes = readFileSync(bad.sd15);
  hub = await startMockHub([
    {
      id: LCM_REPO, commit: COMMIT, lfs: isLfs,
      files: {
        'README.md': '# AnimateLCM-SVD-xt\n', [LCM_FILE]: readFileSync(TOY_UNET), 'AnimateLCM-SVD-xt-1.1.safetensors': sd15Bytes,
        'demos/01-2.gif': 'GIF89a',
      },
      // The real files are 6.1 GB: a refusal must come from the header alone.
      claimedSizes: { 'AnimateLCM-SVD-xt-1.1.safetensors': 6_100_000_000 },
    },
    // Its header promises more data than the file holds.
    { id: 'acme/cut-unet', commit: COMMIT, lfs: isLfs, files: { 'unet.safetensors': readFileSync(TOY_UNET) }, claimedSizes: { 'unet.safetensors': 5_000_000 } },
  ]);
});

after(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fixed UNet input for the toy (8 frames, 4 + 4 channels, 8×8 latents), seeded. */
function toyInput() {
  let x = 7;
  const rand = (n: number) => Float32Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
  return {
    sample: tensor(rand(2 * 8 * 8 * 8 * 8), [2, 8, 8, 8, 8]),
    timestep: 0.25 * Math.log(3),
    encoderHiddenStates: tensor(rand(2 * 64), [2, 1, 64]),
    addedTimeIds: tensor(Float32Array.of(6, 127, 0.02, 6, 127, 0.02), [2, 3]),
  };
}

describe('local file', () => {
  test('--unet with the toy\'s own UNet file: the same UNet output, bit for bit, and the file named on the model', async () => {
    const plain = await loadSvd('toy');
    const swapped = await loadSvd('toy', { unet: TOY_UNET });
    try {
      assert.equal(plain.unet, null);
      assert.deepEqual(swapped.unet, { source: TOY_UNET, name: 'diffusion_pytorch_model.safetensors', file: TOY_UNET });
      const a = await plain.models.denoiser.predict(toyInput());
      const b = await swapped.models.denoiser.predict(toyInput());
      assert.deepEqual(b.dims, a.dims);
      assert.ok(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer)), 'bit-identical UNet output');
    } finally {
      await plain.release();
      await swapped.release();
    }
  });

  const refusals: [string, () => string, RegExp][] = [
    ['an SD 1.5-style image UNet', () => bad.sd15, /is not an SVD UNet \(UNetSpatioTemporalConditionModel\) in diffusers keys: it lacks \d+ of the \d+ weights of the model's UNet \(it is an image UNet/],
    ['an SVD UNet of another size', () => bad.otherSize, /weight "conv_in\.weight" is \[32, 8, 3, 3\] where the model's UNet has \[64, 8, 3, 3\]: it is a UNet of another size/],
    ['a truncated file', () => bad.truncated, /is not a valid safetensors file: tensor ".*" ends at byte \d+ .*\(truncated\?\): download it again/],
    ['a folder', () => dir, /is a folder: give the \.safetensors file itself/],
    ['a missing file', () => './no-such.safetensors', /no such file/],
    ['a Hub path to a pickle', () => `${LCM_REPO}/model.bin`, /Videoshop reads \.safetensors files only/],
  ];
  for (const [what, file, message] of refusals) {
    test(`refused with one line, exit 2: ${what}`, async () => {
      const out = path.join(dir, `refused-${what.length}`);
      mkdirSync(out);
      const r = await cliInProcess('edit', clip, '-e', edited, '-o', path.join(out, 'o.mp4'), '--model', 'toy', '--unet', file());
      assertRefused(r, new RegExp(`^videoshop: --unet ${file().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${message.source}`));
      assert.deepEqual(readdirSync(out), [], 'nothing written');
      await assert.rejects(loadSvd('toy', { unet: file() }), (err: Error) => {
        assert.ok(err instanceof VideoshopError && err.code === 'bad_unet', `${err.name}: ${err.message}`);
        assert.equal(err.field, 'unet');
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('the edit: --model toy --unet <its own UNet file> writes the same frames, bit for bit', async () => {
    const frames = async (extra: string[]) => {
      const out = path.join(dir, `same-${extra.length}`);
      mkdirSync(out);
      const r = await cliInProcess('edit', clip, '-e', edited, '-o', path.join(out, 'o.mkv'), '--codec', 'ffv1', '--model', 'toy',
        '--steps', '2', '--size', '64x32', '--frames-dir', path.join(out, 'frames'), '-q', ...extra);
      assert.equal(r.code, 0, r.err);
      return readdirSync(path.join(out, 'frames')).sort().map((f) => readFileSync(path.join(out, 'frames', f)));
    };
    const a = await frames([]);
    const b = await frames(['--unet', TOY_UNET]);
    assert.equal(a.length, 16, 'frames and masks');
    assert.equal(b.length, a.length);
    a.forEach((png, i) => assert.ok(png.equals(b[i]), `file ${i} identical`));
  });
});

describe('Hub file (loopback mock Hub)', () => {
  const opts = (cacheDir: string, extra: object = {}) => ({ hub: { cacheDir, hubUrl: hub.url, ...extra } });
  const fullRequests = (file: string) => hub.requests.filter((r) => r.path.endsWith(`/${file}`) && r.method === 'GET' && (r.range === null || /-$/.test(r.range)));

  test('org/name/file: header checked, file fetched into the cache once, then used offline with no request', async () => {
    const cacheDir = path.join(dir, 'hf-1');
    const svd = await loadSvd('toy', { ...opts(cacheDir), unet: `${LCM_REPO}/${LCM_FILE}` });
    try {
      assert.equal(svd.unet?.source, `${LCM_REPO}/${LCM_FILE}`);
      assert.equal(svd.unet?.name, LCM_FILE);
      assert.ok(svd.unet?.file.startsWith(path.join(cacheDir, 'models--wangfuyun--AnimateLCM-SVD-xt', 'snapshots', COMMIT)));
      assert.ok(readFileSync(svd.unet.file).equals(readFileSync(TOY_UNET)));
      assert.deepEqual(fullRequests(LCM_FILE).filter((r) => r.status === 200 || r.status === 206).length, 1, 'one download');
      assert.deepEqual(hub.downloads().filter((p) => p.endsWith('.safetensors') && p !== LCM_FILE), []);
      assert.ok(!hub.downloads().includes('demos/01-2.gif'));
    } finally {
      await svd.release();
    }
    const before = hub.requests.length;
    const again = await loadSvd('toy', { ...opts(cacheDir, { offline: true }), unet: `${LCM_REPO}/${LCM_FILE}` });
    await again.release();
    assert.equal(hub.requests.length, before, 'offline: no request');
  });

  const hubRefusals: [string, string, RegExp][] = [
    ['a Hub id without a file (the repo\'s files named)', LCM_REPO,
      /names a Hub repo, not a file in it: its \.safetensors files are AnimateLCM-SVD-xt-1\.1\.safetensors, AnimateLCM-SVD-xt\.safetensors; add one/],
    ['a 6 GB file of another architecture (header only)', `${LCM_REPO}/AnimateLCM-SVD-xt-1.1.safetensors`, /is not an SVD UNet .* \(it is an image UNet/],
    ['a file the repo lacks', `${LCM_REPO}/nope.safetensors`, /wangfuyun\/AnimateLCM-SVD-xt has no file nope\.safetensors: its \.safetensors files are/],
    ['a file shorter than its header says', 'acme/cut-unet/unet.safetensors', /ends at byte \d+ .*\(truncated\?\)/],
    ['a repo that does not exist', 'acme/nothing/unet.safetensors', /no such local file, and no Hub repo acme\/nothing/],
  ];
  for (const [what, unet, message] of hubRefusals) {
    test(`refused before any download: ${what}`, async () => {
      const cacheDir = path.join(dir, `hf-${what.length}`);
      await assert.rejects(loadSvd('toy', { ...opts(cacheDir), unet }), (err: Error) => {
        assert.ok(err instanceof VideoshopError && err.code === 'bad_unet', `${err.name}: ${err.message}`);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('\n'), err.message);
        return true;
      });
      const file = unet.split('/').slice(2).join('/');
      if (file) assert.deepEqual(fullRequests(file), [], 'only ranged requests for the header');
    });
  }

  test('the CLI: a Hub id without a file is one line, exit 2, nothing written', async () => {
    const saved = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = hub.url;
    process.env.HF_HUB_CACHE = path.join(dir, 'hf-cli');
    try {
      const out = path.join(dir, 'cli-out');
      mkdirSync(out, { recursive: true });
      const r = await cliInProcess('edit', clip, '-e', edited, '-o', path.join(out, 'o.mp4'), '--model', 'toy', '--unet', LCM_REPO);
      assertRefused(r, /^videoshop: --unet wangfuyun\/AnimateLCM-SVD-xt: names a Hub repo, not a file in it: its \.safetensors files are /);
      assert.deepEqual(readdirSync(out), []);
    } finally {
      if (saved === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved;
      delete process.env.HF_HUB_CACHE;
    }
  });
});
