import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  ModelRepositoryError,
  openModelRepository,
  requiredFiles,
  type RepoFileSource,
} from '../../src/models/repository.js';
import { fakeBytes, shardIndex, svdConfigs, TINY_FP16_FILES, tinySvdRepo, writeRepo } from './fixtures.js';

const temps: string[] = [];
after(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

async function repoFolder(files: Record<string, string | Uint8Array> = tinySvdRepo()): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'videoshop-repo-'));
  temps.push(dir);
  await writeRepo(dir, files);
  return dir;
}

function without(files: Record<string, string | Uint8Array>, ...drop: string[]): Record<string, string | Uint8Array> {
  return Object.fromEntries(Object.entries(files).filter(([p]) => !drop.includes(p)));
}

/** Asserts that `promise` rejects with a single-line ModelRepositoryError matching `pattern`; returns the message. */
async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<string> {
  let message = '';
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof ModelRepositoryError, `expected ModelRepositoryError, got ${err.name}: ${err.message}`);
    message = err.message;
    return true;
  });
  assert.match(message, pattern);
  assert.ok(!message.includes('\n'), `one line: ${message}`);
  return message;
}

test('fp16: variant single file, sharded variant index with its shards, fallback to float32 with a notice', async () => {
  const dir = await repoFolder();
  const repo = await openModelRepository(dir, { variant: 'fp16' });
  assert.equal(repo.root, dir);
  assert.equal(repo.modelIndex, path.join(dir, 'model_index.json'));
  assert.deepEqual(repo.unet.weights, { variant: 'fp16', index: null, files: [path.join(dir, 'unet/diffusion_pytorch_model.fp16.safetensors')] });
  assert.equal(repo.unet.config, path.join(dir, 'unet/config.json'));
  assert.equal(repo.unet.folder, path.join(dir, 'unet'));
  assert.equal(repo.unet.className, 'UNetSpatioTemporalConditionModel');
  assert.deepEqual(repo.vae.weights, {
    variant: 'fp16',
    index: path.join(dir, 'vae/diffusion_pytorch_model.safetensors.index.fp16.json'),
    files: [
      path.join(dir, 'vae/diffusion_pytorch_model.fp16-00001-of-00002.safetensors'),
      path.join(dir, 'vae/diffusion_pytorch_model.fp16-00002-of-00002.safetensors'),
    ],
  });
  assert.deepEqual(repo.image_encoder.weights, { variant: null, index: null, files: [path.join(dir, 'image_encoder/model.safetensors')] });
  assert.equal(repo.scheduler.config, path.join(dir, 'scheduler/scheduler_config.json'));
  assert.equal(repo.feature_extractor.config, path.join(dir, 'feature_extractor/preprocessor_config.json'));
  assert.deepEqual(repo.notices, ['image_encoder has no fp16 weights; using model.safetensors instead (float32: twice the download and memory)']);
  assert.deepEqual([...repo.requiredFiles].sort(), TINY_FP16_FILES.map((p) => path.join(dir, p)).sort());
});

test('no variant: the float32 files only; never root checkpoints, .bin or the other variant', async () => {
  const dir = await repoFolder();
  const repo = await openModelRepository(dir);
  assert.deepEqual(repo.notices, []);
  const rel = repo.requiredFiles.map((p) => path.relative(dir, p)).sort();
  assert.deepEqual(rel, [
    'feature_extractor/preprocessor_config.json',
    'image_encoder/config.json',
    'image_encoder/model.safetensors',
    'model_index.json',
    'scheduler/scheduler_config.json',
    'unet/config.json',
    'unet/diffusion_pytorch_model.safetensors',
    'vae/config.json',
    'vae/diffusion_pytorch_model.safetensors',
  ]);
  assert.equal(repo.vae.weights.index, null);
});

test('no variant but only fp16 present: falls back to fp16 with a notice; fallback:false refuses', async () => {
  const dir = await repoFolder(without(tinySvdRepo(), 'unet/diffusion_pytorch_model.safetensors'));
  const repo = await openModelRepository(dir);
  assert.deepEqual(repo.unet.weights.files, [path.join(dir, 'unet/diffusion_pytorch_model.fp16.safetensors')]);
  assert.equal(repo.unet.weights.variant, 'fp16');
  assert.deepEqual(repo.notices, ['unet has only fp16 weights; using diffusion_pytorch_model.fp16.safetensors']);
  await rejectsWith(openModelRepository(dir, { fallback: false }), /unet has no diffusion_pytorch_model\.safetensors/);
});

test('missing weights: one line naming the folder, the file and what to do', async () => {
  const dir = await repoFolder(
    without(tinySvdRepo(), 'unet/diffusion_pytorch_model.safetensors', 'unet/diffusion_pytorch_model.fp16.safetensors'),
  );
  const msg = await rejectsWith(openModelRepository(dir, { variant: 'fp16' }), /has no diffusion_pytorch_model\.fp16\.safetensors/);
  assert.equal(
    msg,
    `${dir}/unet has no diffusion_pytorch_model.fp16.safetensors (nor a sharded diffusion_pytorch_model.safetensors.index.json): ` +
      'it only has diffusion_pytorch_model.bin; Videoshop reads .safetensors only (.bin/.ckpt are PyTorch pickles): download the safetensors weights from the Hub',
  );
  const empty = await repoFolder(without(tinySvdRepo(), 'image_encoder/model.safetensors'));
  await rejectsWith(openModelRepository(empty), new RegExp(`^${empty}/image_encoder has no model\\.safetensors .*it has no weight files; download the model again`));
});

test('missing component config, missing shard, damaged index', async () => {
  const noVaeConfig = await repoFolder(without(tinySvdRepo(), 'vae/config.json'));
  await rejectsWith(openModelRepository(noVaeConfig), new RegExp(`^${noVaeConfig}/vae has no config\\.json: `));
  const noFeature = await repoFolder(without(tinySvdRepo(), 'feature_extractor/preprocessor_config.json'));
  await rejectsWith(openModelRepository(noFeature), /feature_extractor has no preprocessor_config\.json/);

  const noShard = await repoFolder(without(tinySvdRepo(), 'vae/diffusion_pytorch_model.fp16-00002-of-00002.safetensors'));
  await rejectsWith(
    openModelRepository(noShard, { variant: 'fp16' }),
    /vae lacks shard diffusion_pytorch_model\.fp16-00002-of-00002\.safetensors named by diffusion_pytorch_model\.safetensors\.index\.fp16\.json/,
  );

  const evil = await repoFolder({ ...tinySvdRepo(), 'vae/diffusion_pytorch_model.safetensors.index.fp16.json': shardIndex({ '../../etc/passwd': ['x'] }) });
  await rejectsWith(openModelRepository(evil, { variant: 'fp16' }), /weight "x" maps to "\.\.\/\.\.\/etc\/passwd", not a file name in vae\//);

  const broken = await repoFolder({ ...tinySvdRepo(), 'vae/diffusion_pytorch_model.safetensors.index.fp16.json': '{"weight_map": ' });
  await rejectsWith(openModelRepository(broken, { variant: 'fp16' }), /index\.fp16\.json is not valid JSON/);
});

test('model_index.json: missing, another pipeline, another component class', async () => {
  const none = await repoFolder(without(tinySvdRepo(), 'model_index.json'));
  await rejectsWith(openModelRepository(none), new RegExp(`^${none} has no model_index\\.json: it is not a diffusers pipeline`));

  const index = JSON.parse(svdConfigs()['model_index.json']) as Record<string, unknown>;
  const sd = await repoFolder({ ...tinySvdRepo(), 'model_index.json': JSON.stringify({ ...index, _class_name: 'StableDiffusionPipeline' }) });
  await rejectsWith(openModelRepository(sd), /the pipeline is "StableDiffusionPipeline", not StableVideoDiffusionPipeline/);

  const ddim = await repoFolder({ ...tinySvdRepo(), 'model_index.json': JSON.stringify({ ...index, scheduler: ['diffusers', 'DDIMScheduler'] }) });
  await rejectsWith(openModelRepository(ddim), /"scheduler" is \["diffusers","DDIMScheduler"\], expected \["diffusers", "EulerDiscreteScheduler"\]/);

  await rejectsWith(openModelRepository(path.join(none, 'nope')), /is not a folder: give a diffusers model folder or a Hub id/);
});

test('symlinked files count (HF cache snapshots), broken links do not; legacy variant index name', async () => {
  const blobs = await repoFolder({ blob: fakeBytes(100, 1) });
  const files = without(tinySvdRepo(), 'unet/diffusion_pytorch_model.fp16.safetensors');
  const dir = await repoFolder(files);
  await symlink(path.join(blobs, 'blob'), path.join(dir, 'unet/diffusion_pytorch_model.fp16.safetensors'));
  const repo = await openModelRepository(dir, { variant: 'fp16' });
  assert.equal(repo.unet.weights.variant, 'fp16');

  await rm(path.join(blobs, 'blob'));
  const fallen = await openModelRepository(dir, { variant: 'fp16' });
  assert.equal(fallen.unet.weights.variant, null, 'a dangling link is not a file');

  const legacy = await repoFolder(without(tinySvdRepo(), 'vae/diffusion_pytorch_model.safetensors.index.fp16.json'));
  await writeFile(
    path.join(legacy, 'vae/diffusion_pytorch_model.safetensors.fp16.index.json'),
    shardIndex({ 'diffusion_pytorch_model.fp16-00001-of-00002.safetensors': ['a'], 'diffusion_pytorch_model.fp16-00002-of-00002.safetensors': ['b'] }),
  );
  const old = await openModelRepository(legacy, { variant: 'fp16' });
  assert.equal(old.vae.weights.index, path.join(legacy, 'vae/diffusion_pytorch_model.safetensors.fp16.index.json'));
  assert.equal(old.vae.weights.files.length, 2);
});

test('requiredFiles works on any file source (what the downloader passes: a Hub listing)', async () => {
  const files = tinySvdRepo();
  const reads: string[] = [];
  const source: RepoFileSource = {
    where: 'acme/tiny@main',
    paths: new Set(Object.keys(files)),
    readText: async (p) => {
      reads.push(p);
      return String(files[p]);
    },
  };
  assert.deepEqual([...(await requiredFiles(source, 'fp16'))].sort(), TINY_FP16_FILES);
  // Only the small JSON files are read while planning, never weights.
  assert.deepEqual(reads.sort(), ['model_index.json', 'vae/diffusion_pytorch_model.safetensors.index.fp16.json']);
});
