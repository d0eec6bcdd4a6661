import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendFrames, crossfadeWeight, planBlocks } from '../../src/pipeline/blocks.js';

test('a video no longer than a block is one block', () => {
  assert.deepEqual(planBlocks(14, 14, 4), [{ start: 0, end: 14 }]);
  assert.deepEqual(planBlocks(5, 14, 4), [{ start: 0, end: 5 }]);
});

test('longer videos get equal blocks that overlap by at least the minimum and end on the last frame', () => {
  for (const [n, b, o] of [[40, 14, 4], [15, 14, 1], [100, 25, 6], [20, 8, 3], [1000, 14, 4]]) {
    const blocks = planBlocks(n, b, o);
    assert.equal(blocks[0].start, 0);
    assert.equal(blocks.at(-1)!.end, n);
    for (const bl of blocks) assert.equal(bl.end - bl.start, b);
    for (let j = 1; j < blocks.length; j++) {
      const overlap = blocks[j - 1].end - blocks[j].start;
      assert.ok(overlap >= o, `overlap ${overlap} < ${o} for n=${n}`);
      assert.ok(blocks[j].start > blocks[j - 1].start);
    }
  }
  assert.deepEqual(planBlocks(40, 14, 4), [{ start: 0, end: 14 }, { start: 9, end: 23 }, { start: 17, end: 31 }, { start: 26, end: 40 }]);
});

test('bad block settings are refused with a clear message', () => {
  assert.throws(() => planBlocks(0, 14, 4), /no frames/);
  assert.throws(() => planBlocks(20, 14, 14), /overlap must be between 1 and 13/);
  assert.throws(() => planBlocks(20, 1, 0), /at least 2 frames/);
});

test('the cross-fade keeps the conditioning frame from the previous block and ramps to the new one', () => {
  assert.equal(crossfadeWeight(9, 9, 14), 0);
  assert.equal(crossfadeWeight(10, 9, 14), 0.2);
  assert.equal(crossfadeWeight(13, 9, 14), 0.8);
  assert.equal(crossfadeWeight(14, 9, 14), 1);
  assert.deepEqual(Array.from(blendFrames(Float32Array.of(0, 10), Float32Array.of(1, 20), 0.25)), [0.25, 12.5]);
});
