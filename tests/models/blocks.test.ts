/**
 * The shared blocks (src/models/blocks/) against diffusers' modules in the configurations the VAE test does not reach
 * (tests/oracle/vae.py, run_blocks): time embeddings, output_scale_factor, learned_with_images with a mixed
 * image_only_indicator, the token-layout AlphaBlender, Downsample2D padding 1 and 0 on odd sizes, Upsample2D (×2 and to a given size).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Graph, type Value } from '../../src/onnx/graph.js';
import { ModelSession } from '../../src/runtime/session.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { downsample2d, resnetBlock2d, upsample2d } from '../../src/models/blocks/resnet.js';
import { alphaBlend, spatioTemporalResBlock } from '../../src/models/blocks/spatiotemporal.js';
import type { Tensor } from '../../src/tensor.js';
import { oracleData, oracleSkip } from '../helpers/oracle.js';

const TOL = 1e-4;
const skip = oracleSkip('vae');
const load = oracleData('vae', (vaeDir) => {
  const dir = path.join(vaeDir, 'blocks');
  const io = WeightStore.openFiles([path.join(dir, 'io.safetensors')]);
  const get = (k: string): Tensor => ({ data: io.readFloat32(k), dims: io.info(k).shape });
  const weights = WeightStore.openFiles([path.join(dir, 'weights.safetensors')]);
  return { weights, get, x: get('x'), temb: get('temb'), indicator: get('indicator') };
});
const get = (k: string): Tensor => load().get(k);
const cacheDir = mkdtempSync(path.join(tmpdir(), 'videoshop-blocks-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual([...a.dims], [...b.dims]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** Builds a one-output graph over named float inputs (plus int64 `num_frames` when asked) and runs it. */
async function run(
  name: string, inputs: Record<string, Tensor>, build: (g: Graph, v: Record<string, Value>) => Value, numFrames?: number,
): Promise<Tensor> {
  const g = new Graph({ name, weights: load().weights });
  const values: Record<string, Value> = {};
  for (const [k, t] of Object.entries(inputs)) values[k] = g.input(k, 'float32', [...t.dims]);
  if (numFrames !== undefined) values.num_frames = g.input('num_frames', 'int64', [1]);
  g.output(build(g, values), 'y', 'float32', []);
  const session = await ModelSession.create(g, { cacheDir, threads: 2 });
  const feeds: Parameters<ModelSession['run']>[0] = { ...inputs };
  if (numFrames !== undefined) feeds.num_frames = { data: BigInt64Array.of(BigInt(numFrames)), dims: [1], type: 'int64' };
  const out = (await session.run(feeds)).y;
  await session.release();
  return out;
}

async function check(what: string, got: Tensor, refKey: string): Promise<void> {
  const e = maxAbsDiff(got, get(refKey));
  console.log(`blocks ${what}: max abs error ${e}`);
  assert.ok(e <= TOL, `${what}: ${e} > ${TOL}`);
}

test('resnetBlock2d with temb, groups 8, conv_shortcut and output_scale_factor 2', { skip }, async () => {
  const { x, temb } = load();
  const y = await run('res', { x, temb }, (g, v) => resnetBlock2d(g, v.x, 'res', { groups: 8, eps: 1e-5, temb: v.temb, outputScaleFactor: 2 }));
  await check('resnetBlock2d', y, 'res');
});

test('spatioTemporalResBlock as the UNet uses it (temb, learned_with_images)', { skip }, async () => {
  const { x, temb, indicator } = load();
  const build = (g: Graph, v: Record<string, Value>) => spatioTemporalResBlock(g, v.x, 'st', {
    numFrames: v.num_frames, temb: v.temb, groups: 32, eps: 1e-5, temporalEps: 1e-5, strategy: 'learned_with_images',
    imageOnlyIndicator: v.indicator,
  });
  await check('spatioTemporalResBlock (mixed indicator)', await run('st', { x, temb, indicator }, build, 3), 'st');
  const zeros: Tensor = { data: new Float32Array(6), dims: [2, 3] };
  const video = await run('st', { x, temb, indicator: zeros }, build, 3);
  await check('spatioTemporalResBlock (video)', video, 'st_video');
  assert.ok(maxAbsDiff(video, get('st')) > 100 * TOL, 'the indicator changes the result');
});

test('alphaBlend in the token layout [B·F, L, C]', { skip }, async () => {
  const { indicator } = load();
  const y = await run('mix', { s: get('tokens_spatial'), t: get('tokens_temporal'), indicator }, (g, v) =>
    alphaBlend(g, v.s, v.t, 'mix', { strategy: 'learned_with_images', imageOnlyIndicator: v.indicator, switchSpatialToTemporalMix: false, layout: 'tokens' }));
  await check('alphaBlend tokens', y, 'mix');
});

test('downsample2d (padding 1 and the Encoder\'s asymmetric padding 0) and upsample2d on odd sizes', { skip }, async () => {
  const { x } = load();
  await check('downsample2d padding 1', await run('down1', { x }, (g, v) => downsample2d(g, v.x, 'down1')), 'down1');
  await check('downsample2d padding 0', await run('down0', { x }, (g, v) => downsample2d(g, v.x, 'down0', { padding: 0 })), 'down0');
  await check('upsample2d', await run('up', { x }, (g, v) => upsample2d(g, v.x, 'up')), 'up');
  const skip: Tensor = { data: new Float32Array(6 * 9 * 13), dims: [6, 1, 9, 13] };
  const sized = await run('up_sized', { x, skip }, (g, v) => upsample2d(g, v.x, 'up', { sizeOf: v.skip }));
  await check('upsample2d to a 9×13 skip', sized, 'up_sized');
});
