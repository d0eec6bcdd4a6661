/**
 * Block anchoring (src/pipeline/anchor.ts): what block j of a long video is conditioned on, and the benchmark's block
 * loop (longVideoByBlock) with the paper's chaining, which must stay bit-identical to the loop before anchoring.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { longVideoByBlock, type EditCase } from '../../src/eval/quality.js';
import type { SvdModel } from '../../src/models/svd.js';
import { anchorBlock, anchorColours, BLOCK_ANCHORS, mixFrames, restoreUnedited } from '../../src/pipeline/anchor.js';
import { blendFrames, crossfadeWeight, planBlocks } from '../../src/pipeline/blocks.js';
import { psnrFromMse } from '../../src/eval/psnr.js';
import { runVideoshop } from '../../src/pipeline/videoshop.js';
import { SVD_SCHEDULER_CONFIG } from '../../src/pipeline/options.js';
import { slice, tensor, type Tensor } from '../../src/tensor.js';
import { analyticModels } from '../helpers/analytic.js';
import { driftingVideo, frame, paintRedSquare } from './fixtures.js';

const edit = tensor(new Float32Array(12).fill(0.5), [3, 2, 2]);
const previous = tensor(new Float32Array(12).fill(-0.5), [3, 2, 2]);
const target = { mean: [1, 2, 3, 4], std: [1, 1, 1, 1] };
const native = tensor(new Float32Array(48).fill(0.25), [3, 4, 4]);

test('block 0 is conditioned on the edit (and its embedding frames) whatever the anchoring', () => {
  for (const mode of ['chained', 'edit'] as const) {
    const b = anchorBlock(0, mode, { edit, embeddingFrames: { edited: native } });
    assert.equal(b.editedFrame, edit);
    assert.deepEqual(b.embeddingFrames, { edited: native });
    assert.equal(b.conditioning, undefined);
  }
});

test("chained: a later block takes the previous block's frame alone (the paper's §4.2)", () => {
  const b = anchorBlock(2, 'chained', { edit, embeddingFrames: { edited: native }, previous, editRescaleTarget: target });
  assert.deepEqual(b, { editedFrame: previous });
});

test("edit: a later block's latents from the previous frame (the source outside the edit), CLIP embedding and rescaling target from the edit", () => {
  // The previous frame far from the source (all edit) is kept as it is.
  const source = tensor(new Float32Array(12).fill(0.5), [3, 2, 2]);
  const ctx = { edit, previous, source, editRescaleTarget: target };
  const b = anchorBlock(1, 'edit', { ...ctx, embeddingFrames: { source: previous, edited: native } });
  assert.deepEqual([...b.editedFrame.data], [...previous.data]);
  // Within the band of the source: the source's pixels.
  assert.deepEqual([...anchorBlock(1, 'edit', { ...ctx, source: tensor(previous.data.map((v) => v + 0.05), [3, 2, 2]) }).editedFrame.data],
    [...previous.data.map((v) => v + 0.05)]);
  // The edit as CLIP saw it for block 0 (its own resolution); the source's embedding stays the block's own frame.
  assert.deepEqual(b.embeddingFrames, { edited: native });
  assert.deepEqual(b.conditioning, { rescaleTarget: target });
  assert.deepEqual(anchorBlock(1, 'edit', ctx).embeddingFrames, { edited: edit });
  // Without rescaling (the ablation) block 0 has no target, and none is passed on.
  assert.equal(anchorBlock(1, 'edit', { ...ctx, editRescaleTarget: null }).conditioning, undefined);
  assert.throws(() => anchorBlock(1, 'edit', { edit, previous, source }), /rescaling target/);
  assert.throws(() => anchorBlock(1, 'chained', { edit }), /previous block's edited frame/);
});

test('editMix blends the edit into the conditioning frame', () => {
  const b = anchorBlock(1, { ...BLOCK_ANCHORS.chained, editMix: 0.25 }, { edit, previous });
  assert.ok(b.editedFrame.data.every((v) => Math.abs(v - -0.25) < 1e-7));
  assert.deepEqual([...mixFrames(previous, edit, 1).data], [...edit.data]);
  assert.throws(() => anchorBlock(1, { ...BLOCK_ANCHORS.chained, editMix: 2 }, { edit, previous }), /editMix/);
});

test('restoreUnedited: the source where the edited frame is within the band of it, the edit (and one pixel around) elsewhere', () => {
  const H = 1, W = 5, plane = H * W;
  const src = tensor(new Float32Array(3 * plane).fill(0), [3, H, W]);
  // Pixel 0: off by 0.05 (regeneration error); pixel 4: off by 0.5 (the edit) in one channel; pixel 2 halfway.
  const ed = tensor(new Float32Array(3 * plane).fill(0.05), [3, H, W]);
  ed.data[4] = 0.5;
  ed.data[plane + 2] = 0.175;
  const out = restoreUnedited(ed, src, [0.1, 0.25]);
  const r = [...out.data.subarray(0, plane)];
  assert.equal(r[0], 0);
  // Pixel 1: m(2) = 0.5 dilated; pixel 3: m(4) = 1 dilated; pixel 4 kept.
  assert.ok(Math.abs(r[1] - 0.025) < 1e-7 && Math.abs(r[2] - 0.025) < 1e-7, String(r));
  assert.ok(Math.abs(r[3] - 0.05) < 1e-7 && Math.abs(r[4] - 0.5) < 1e-7, String(r));
  const b = anchorBlock(1, { ...BLOCK_ANCHORS.chained, sourceBand: [0.1, 0.25] }, { edit, previous: ed, source: src });
  assert.deepEqual([...b.editedFrame.data], [...out.data]);
  assert.throws(() => anchorBlock(1, { ...BLOCK_ANCHORS.chained, sourceBand: [0.1, 0.25] }, { edit, previous: ed }), /source frame/);
});

test('anchorColours: block 0 sets the reference, later blocks are mapped onto it per channel; chained and edit leave frames alone', () => {
  const video = (values: number[]) => tensor(Float32Array.from(values), [2, 3, 1, 2]);
  // Block 0: channel 0 values 0, 0.2, 0.4, 0.6 (mean 0.3), channel 1 constant −0.5, channel 2 clamped from 3 to 1.
  const first = video([0, 0.2, -0.5, -0.5, 3, 1, 0.4, 0.6, -0.5, -0.5, 1, 1]);
  const colours = { ...BLOCK_ANCHORS.edit, matchColours: true };
  assert.equal(anchorColours(0, 'edit', first, undefined).reference, undefined);
  const r0 = anchorColours(0, colours, first, undefined);
  assert.equal(r0.frames, first);
  assert.ok(Math.abs(r0.reference!.mean[0] - 0.3) < 1e-7 && r0.reference!.mean[2] === 1);
  // A later block with channel 0 shifted by +0.1 and doubled in contrast comes back onto block 0's statistics.
  const later = video([-0.2, 0.2, -0.5, -0.5, 1, 1, 0.6, 1, -0.5, -0.5, 1, 1]);
  const r1 = anchorColours(1, colours, later, r0.reference);
  assert.deepEqual([0, 1, 6, 7].map((i) => Math.round(r1.frames.data[i] * 1e6) / 1e6 + 0), [0, 0.2, 0.4, 0.6]);
  assert.equal(r1.reference, r0.reference);
  assert.equal(anchorColours(1, 'chained', later, undefined).frames, later);
  assert.throws(() => anchorColours(1, colours, later, undefined), /colour statistics/);
});

/** longVideoByBlock as it was before anchoring: each block conditioned on its first frame as already edited. */
async function chainedBeforeAnchoring(svd: SvdModel, c: EditCase, blockFrames: number): Promise<number[]> {
  const blocks = planBlocks(c.source.dims[0], blockFrames, Math.max(1, Math.min(4, Math.floor(blockFrames / 2))));
  const done = new Map<number, Float32Array>();
  const [, C, H, W] = c.source.dims;
  for (let j = 0; j < blocks.length; j++) {
    const b = blocks[j];
    const condition = j === 0 ? c.editedFrame : tensor(done.get(b.start)!, [C, H, W]);
    const r = await runVideoshop(svd.models, { video: slice(c.source, 0, b.start, b.end), editedFrame: condition }, { seed: 42 + j, scheduler: svd.scheduler });
    const out = r.frames.data.map((v) => Math.min(1, Math.max(-1, v)));
    const previousEnd = j > 0 ? blocks[j - 1].end : 0;
    for (let k = 0; k < b.end - b.start; k++) {
      const f = frame(tensor(out, r.frames.dims), k).data;
      const before = done.get(b.start + k);
      done.set(b.start + k, before ? blendFrames(before, f, crossfadeWeight(b.start + k, b.start, previousEnd)) : f);
    }
  }
  return blocks.map((b) => {
    let s = 0, n = 0;
    for (let t = b.start; t < b.end; t++) {
      const o = done.get(t)!, g = frame(c.target, t).data;
      for (let i = 0; i < o.length; i++) { s += (o[i] - g[i]) ** 2; n++; }
    }
    return psnrFromMse(s / n);
  });
}

test('longVideoByBlock: chained is bit-identical to the loop before anchoring; edit differs', async () => {
  const svd = { models: analyticModels({}, 8), scheduler: SVD_SCHEDULER_CONFIG, numFrames: 8 } as unknown as SvdModel;
  const source = driftingVideo(16);
  const gt: Tensor = paintRedSquare(source);
  const c = { source, target: gt, editedFrame: frame(gt, 0) } as unknown as EditCase;
  const before = await chainedBeforeAnchoring(svd, c, 8);
  const chained = await longVideoByBlock(svd, c, 8, {}, 'chained');
  assert.equal(chained.length, 3);
  assert.deepEqual(chained, before);
  const anchored = await longVideoByBlock(svd, c, 8, {}, 'edit');
  // (Block 1's score differs too: its last frames are cross-faded with block 2's.)
  assert.notDeepEqual(anchored, before);
});
