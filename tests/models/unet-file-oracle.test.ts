/**
 * `--unet <file>` against diffusers: UNetSpatioTemporalConditionModel with `load_state_dict(strict=True)` of the same
 * file (tests/oracle/unet_file.py) gives the same UNet output as our graph, for the toy's own UNet file and for a
 * UNet-only fine-tune of it saved by safetensors' save_file in diffusers keys.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadSvd } from '../../src/models/svd.js';
import { toyModelFolder } from '../../src/models/toy.js';
import { WeightStore } from '../../src/safetensors/read.js';
import type { Tensor } from '../../src/tensor.js';
import { oracleData, oracleDir, oracleSkip } from '../helpers/oracle.js';

/** fp32 graph vs torch fp32, as tests/models/unet.test.ts (observed ≈ 1e-6 there). */
const TOL = 1e-4;
const skip = oracleSkip('unet_file');
const io = oracleData('unet_file', (dir) => {
  const store = WeightStore.openFiles([path.join(dir, 'io.safetensors')]);
  const get = (key: string): Tensor => ({ data: store.readFloat32(key), dims: store.info(key).shape });
  return {
    get,
    input: { sample: get('sample'), timestep: store.readFloat32('timestep')[0], encoderHiddenStates: get('ehs'), addedTimeIds: get('ids') },
  };
});

const cases: [string, () => string][] = [
  ['the toy\'s own UNet file', () => path.join(toyModelFolder(), 'unet', 'diffusion_pytorch_model.safetensors')],
  ['a UNet-only fine-tune saved in diffusers keys', () => path.join(oracleDir('unet_file'), 'finetune.safetensors')],
];

for (const [what, file] of cases) {
  test(`--model toy --unet <${what}>: the UNet output of diffusers' load_state_dict of the same file`, { skip }, async () => {
    const key = what.startsWith('a UNet-only') ? 'finetune.out' : 'toy.out';
    const svd = await loadSvd('toy', { unet: file() });
    try {
      const out = await svd.models.denoiser.predict(io().input);
      const ref = io().get(key);
      assert.deepEqual([...out.dims], [...ref.dims]);
      let err = 0;
      for (let i = 0; i < ref.data.length; i++) err = Math.max(err, Math.abs(out.data[i] - ref.data[i]));
      assert.ok(err < TOL, `max |ours − diffusers| = ${err}`);
    } finally {
      await svd.release();
    }
  });
}

test('the fine-tune differs from the toy by far more than the tolerance (the swap is real)', { skip }, () => {
  const [a, b] = [io().get('toy.out'), io().get('finetune.out')];
  let d = 0;
  for (let i = 0; i < a.data.length; i++) d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
  assert.ok(d > 100 * TOL, `toy vs fine-tune: ${d}`);
});
