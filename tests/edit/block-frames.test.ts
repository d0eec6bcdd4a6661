import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { framesInBlocks } from '../../src/edit/block-frames.js';
import { planBlocks } from '../../src/pipeline/blocks.js';
import type { Tensor } from '../../src/tensor.js';

function frame(i: number): Tensor {
  return { data: Float32Array.of(i), dims: [1, 1, 1] };
}

describe('framesInBlocks', () => {
  it('reads each frame once and hands every block its frames, overlap included', async () => {
    let produced = 0;
    let closed = false;
    async function* source(): AsyncGenerator<Tensor> {
      try {
        for (let i = 0; i < 30; i++) {
          produced++;
          yield frame(i);
        }
      } finally {
        closed = true;
      }
    }
    const blocks = planBlocks(30, 14, 4);
    const seen: number[][] = [];
    for await (const b of framesInBlocks(source(), blocks)) seen.push(b.map((f) => f.data[0]));
    assert.equal(produced, 30);
    assert.ok(closed);
    assert.equal(seen.length, blocks.length);
    blocks.forEach((b, j) => assert.deepEqual(seen[j], Array.from({ length: b.end - b.start }, (_, k) => b.start + k)));
  });

  it('stops the source when the consumer stops, and fails when the source is short', async () => {
    let closed = false;
    async function* source(n: number): AsyncGenerator<Tensor> {
      try {
        for (let i = 0; i < n; i++) yield frame(i);
      } finally {
        closed = true;
      }
    }
    for await (const _b of framesInBlocks(source(30), planBlocks(30, 14, 4))) break;
    assert.ok(closed);
    await assert.rejects(async () => {
      for await (const _b of framesInBlocks(source(20), planBlocks(30, 14, 4))) { /* drain */ }
    }, /video ended after 20 frames/);
  });
});
