/**
 * Fault injection through the real CLI (child processes): hostile file names, FIFOs and devices, checks that must
 * fail before the model loads, damaged models, impossible sizes, a hostile Hub, and two edits of one output at once.
 * Every refusal: one `videoshop: …` line, exit 2, nothing written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { readHeader } from '../../src/safetensors/read.js';
import { runVideoshop, type CliOptions } from '../helpers/cli.js';
import { startMockHub, type MockHub } from '../hub/mock-hub.js';
import { assertRefused, createWorkspace, FAST, files, firstFrame, makeVideo, probe, type Workspace } from '../edit/fixtures.js';
import { mountTmpfs, readOnlyFolder, tmpfsUnavailable } from './helpers.js';

let ws: Workspace;
let clip: string;
let edited: string;
let hub: MockHub;

function modelFiles(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = readFileSync(path.join(e.parentPath, e.name));
  }
  return out;
}

before(async () => {
  ws = createWorkspace('faults-cli');
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 8 });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
  hub = await startMockHub([{ id: 'slow/tiny', commit: 'c0ffee0000000000000000000000000000000009', files: modelFiles(ws.model), lfs: (p) => p.endsWith('.safetensors') }]);
  hub.hang('unet/diffusion_pytorch_model.safetensors', 1000);
});

after(async () => {
  await hub?.close();
  ws?.remove();
});

function run(args: string[], opts: CliOptions = {}) {
  return runVideoshop(['edit', ...args], { ...opts, env: { ...ws.env, ...opts.env } });
}

async function refused(message: RegExp, o: { video?: string; image?: string; model?: string; output?: string; extra?: string[]; env?: CliOptions['env'] } = {}) {
  const outDir = ws.outDir();
  const t0 = performance.now();
  const r = await run([o.video ?? clip, '-e', o.image ?? edited, '-o', path.join(outDir, o.output ?? 'out.mp4'), '--model', o.model ?? ws.model,
    ...FAST, ...(o.extra ?? [])], { env: o.env });
  assertRefused(r, message, outDir);
  assert.equal(r.code, 2);
  return performance.now() - t0;
}

/** A copy of the tiny model with `change` applied to it. */
function modelCopy(name: string, change: (dir: string) => void): string {
  const dir = ws.file(name);
  cpSync(ws.model, dir, { recursive: true });
  change(dir);
  return dir;
}

describe('names are data, and only regular files are read', { concurrency: 3 }, () => {
  test('a video named -report, an image named concat:…, an output named http:…: all plain files', async () => {
    const dir = ws.outDir();
    copyFileSync(clip, path.join(dir, '-report'));
    copyFileSync(edited, path.join(dir, 'concat:e.png'));
    const r = await run(['-e', 'concat:e.png', '-o', 'http:o.mp4', '--model', ws.model, ...FAST, '-q', '--', '-report'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    // No ffprobe/ffmpeg report log: '-report' never became an option.
    assert.deepEqual(files(dir), ['-report', 'concat:e.png', 'http:o.mp4']);
    assert.equal((await probe(path.join(dir, 'http:o.mp4'))).frames, 8);
  });

  test('a FIFO as the edited frame or as the video is refused at once (no hang)', async () => {
    const fifo = ws.file('pipe.png');
    spawnSync('mkfifo', [fifo]);
    const ms = await refused(/not an image file: .*pipe\.png is a FIFO, socket or device; give a regular file/, { image: fifo });
    assert.ok(ms < 30_000, `${ms} ms`);
    const vfifo = ws.file('pipe.mp4');
    spawnSync('mkfifo', [vfifo]);
    await refused(/not a video file: .*pipe\.mp4 is a FIFO, socket or device/, { video: vfifo });
  });

  test('a device and a folder are refused', async () => {
    await refused(/not a video file: \/dev\/zero is a FIFO, socket or device/, { video: '/dev/zero' });
    await refused(/not an image file: .* is a folder/, { image: ws.dir });
  });
});

describe('cheap checks fail before the model is loaded', { concurrency: 3 }, () => {
  // The model path does not exist: a refusal about anything else proves the check ran before loading.
  const noModel = '/nonexistent/model-folder';

  test('a too-long output name', async () => {
    await refused(/output name x+… is 244 bytes long: at most \d+ fit/, { output: `${'x'.repeat(240)}.mp4`, model: noModel });
  });

  test('a read-only output folder', async () => {
    const dir = ws.file('read-only');
    const cleanup = readOnlyFolder(dir);
    try {
      const r = await run([clip, '-e', edited, '-o', path.join(dir, 'out.mp4'), '--model', noModel, ...FAST]);
      assertRefused(r, /cannot write into .*read-only: (the file system is read-only|permission denied); choose another output folder/, dir);
    } finally {
      cleanup();
    }
  });

  test('a corrupt packet in the middle of the video', async () => {
    const long = await makeVideo(ws.file('long-clean.mp4'), { frames: 30 });
    const bytes = Buffer.from(readFileSync(long));
    const mid = bytes.indexOf('mdat') + Math.floor((bytes.length - bytes.indexOf('mdat')) / 3);
    bytes.fill(0xff, mid, mid + 2000);
    writeFileSync(ws.file('corrupt-mid.mp4'), bytes);
    await refused(/video .*corrupt-mid\.mp4 is corrupt: only \d+ of its 30 frames decode/, { video: ws.file('corrupt-mid.mp4'), model: noModel });
  });

  test('--frames-dir holding a file at a name it needs (the edited frame itself)', async () => {
    const dir = ws.file('frames-with-edit');
    mkdirSync(dir);
    copyFileSync(edited, path.join(dir, 'frame_00000.png'));
    const before = readFileSync(path.join(dir, 'frame_00000.png'));
    await refused(/--frames-dir .*frames-with-edit already holds frame_00000\.png: choose an empty folder/, {
      image: path.join(dir, 'frame_00000.png'), extra: ['--frames-dir', dir], model: noModel,
    });
    assert.deepEqual(readFileSync(path.join(dir, 'frame_00000.png')), before);
    assert.deepEqual(files(dir), ['frame_00000.png']);
  });

  test('an image over the pixel budget (23000×11500, under 1 MB as PNG)', async () => {
    const big = ws.file('huge.png');
    await sharp({ create: { width: 23000, height: 11500, channels: 3, background: '#336699' } }).png().toFile(big);
    await refused(/image .*huge\.png is 23000×11500 \(265 MP\): more than the 40 MP Videoshop decodes/, { image: big, model: noModel });
  });

  test('a processing size whose memory cannot exist', async () => {
    await refused(/processing at 100032×50048 .* needs about .* GB of memory, more than this machine's .* GB: choose a smaller --size or fewer --block-frames/, {
      extra: ['--size', '100032x50048'], model: noModel,
    });
  });

  test('a malformed HF_ENDPOINT, and a server answering HTML', async () => {
    await refused(/^videoshop: HF_ENDPOINT="not a url" is not a URL/, { model: 'acme/some-svd', env: { HF_ENDPOINT: 'not a url' } });
    hub.html = true;
    try {
      await refused(/did not answer like a Hugging Face Hub/, { model: 'acme/some-svd', env: { HF_ENDPOINT: hub.url } });
    } finally {
      hub.html = false;
    }
  });
});

describe('damaged models fail with one line naming the file and the field', { concurrency: 3 }, () => {
  test('truncated weights', async () => {
    const m = modelCopy('m-truncated', (d) => {
      const f = path.join(d, 'vae/diffusion_pytorch_model.safetensors');
      const bytes = readFileSync(f);
      writeFileSync(f, bytes.subarray(0, bytes.length >> 1));
    });
    await refused(/vae\/diffusion_pytorch_model\.safetensors is not a valid safetensors file: tensor ".*" ends at byte \d+ of a \d+-byte data section \(truncated\?\)/, { model: m });
  });

  test('a config whose layers_per_block is 1e9 (refused before allocating)', async () => {
    const m = modelCopy('m-huge-config', (d) => {
      const f = path.join(d, 'unet/config.json');
      writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), layers_per_block: 1e9 }));
    });
    const ms = await refused(/unet\/config\.json: "layers_per_block" is 1000000000, more than 16: the config is damaged/, { model: m });
    assert.ok(ms < 30_000, `${ms} ms`);
  });

  test('weights of the wrong shape', async () => {
    const m = modelCopy('m-shape', (d) => {
      const f = path.join(d, 'image_encoder/config.json');
      writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), intermediate_size: 96 }));
    });
    await refused(/image_encoder\/model\.safetensors: weight ".*fc1\.weight" has shape \[64, 32\] but the config implies \[96, 32\]/, { model: m });
  });

  test('weights of the wrong dtype', async () => {
    const m = modelCopy('m-dtype', (d) => {
      const f = path.join(d, 'image_encoder/model.safetensors');
      const bytes = readFileSync(f);
      const headerLen = Number(bytes.readBigUInt64LE(0));
      const header = bytes.subarray(8, 8 + headerLen).toString('utf8');
      // Same length, same byte size per element: only the declared dtype changes.
      const changed = header.replace(/("vision_model\.post_layernorm\.weight":\{"dtype":")F32/, '$1I32');
      assert.notEqual(changed, header);
      bytes.write(changed, 8, 'utf8');
      writeFileSync(f, bytes);
    });
    await refused(/image_encoder\/model\.safetensors: weight "vision_model\.post_layernorm\.weight" has dtype I32; weights must be F32, F16 or BF16/, { model: m });
  });

  test('NaN weights: the edit fails instead of writing a grey video', async () => {
    const m = modelCopy('m-nan', (d) => {
      const f = path.join(d, 'vae/diffusion_pytorch_model.safetensors');
      const t = readHeader(f).tensors.find((x) => x.name === 'decoder.conv_out.bias');
      assert.ok(t && t.dtype === 'F32');
      const bytes = readFileSync(f);
      for (let i = 0; i < t.byteLength; i += 4) bytes.writeUInt32LE(0x7fc00000, t.offset + i);
      writeFileSync(f, bytes);
    });
    await refused(/the model produced non-finite values \(NaN or infinity\) in block 1/, { model: m, extra: ['-q'] });
  });
});

test('a full disk with --force: one line, and the previous output survives (the reported bug)', async (t) => {
  const why = tmpfsUnavailable();
  if (why) return t.skip(why);
  const dir = ws.file('full-disk');
  const unmount = mountTmpfs(dir, '64k');
  try {
    const out = path.join(dir, 'out.mp4');
    writeFileSync(out, 'the previous good result');
    writeFileSync(path.join(dir, 'filler'), Buffer.alloc(56 * 1024)); // leaves a few KB: the encoder runs out mid-file
    const r = await run([clip, '-e', edited, '-o', out, '--model', ws.model, ...FAST, '-q', '--force']);
    assertRefused(r, /^videoshop: no space left on the disk of .*full-disk while writing out\.mp4: free some space or choose another output folder; nothing was written$/, dir, ['filler', 'out.mp4']);
    assert.equal(readFileSync(out, 'utf8'), 'the previous good result');
  } finally {
    unmount();
  }
});

describe('interruptions and races', () => {
  test('Ctrl-C during a stalled download stops at once', async () => {
    const outDir = ws.outDir();
    const { spawnVideoshop } = await import('../helpers/cli.js');
    const cli = spawnVideoshop(['edit', clip, '-e', edited, '-o', path.join(outDir, 'out.mp4'), '--model', 'slow/tiny', ...FAST],
      { env: { ...ws.env, HF_ENDPOINT: hub.url } });
    await cli.waitForStderr(/download/);
    await new Promise((r) => setTimeout(r, 300));
    const sent = performance.now();
    cli.child.kill('SIGINT');
    const r = await cli.done;
    const ms = performance.now() - sent;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').at(-1), 'videoshop: stopped (Ctrl-C): no output was written');
    assert.ok(ms < 5000, `stopped ${ms.toFixed(0)} ms after SIGINT`);
    assert.deepEqual(files(outDir), []);
  });

  test('two edits of one output at once: one writes it, the other refuses and changes nothing', async () => {
    const outDir = ws.outDir();
    const out = path.join(outDir, 'out.mp4');
    const args = [clip, '-e', edited, '-o', out, '--model', ws.model, ...FAST, '-q'];
    const [a, b] = await Promise.all([run(args), run(args)]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 2], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 2 ? a : b;
    assert.match(loser.stderr, /^videoshop: .*out\.mp4 (appeared while this edit ran \(another program or edit wrote it\): it was not replaced|already exists)/);
    assert.deepEqual(files(outDir), ['out.mp4']);
    assert.equal((await probe(out)).frames, 8);
  });
});
