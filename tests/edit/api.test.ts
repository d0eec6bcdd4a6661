/**
 * The library API behind `videoshop edit`: `editVideo(opts, hooks)` on the tiny model (its result object, progress
 * and warning hooks, a model loaded once and passed in, cancellation), plus the pieces of the CLI that can't be
 * produced honestly end to end: the out-of-memory message (there is no way to run ONNX Runtime out of memory here
 * on purpose, so the mapping from its error texts is unit-tested) and the unedited-frame check.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { looksUnedited } from '../../src/edit/edit-video.js';
import { apiNaming, cliNaming, editVideo, explainFailure, VideoshopError, type EditProgress } from '../../src/edit/index.js';
import { loadSvd } from '../../src/models/svd.js';
import { tensor } from '../../src/tensor.js';
import { createWorkspace, decodeRgb, files, firstFrame, makeVideo, probe, type Workspace } from './fixtures.js';

let ws: Workspace;
let clip: string;
let edited: string;

before(async () => {
  ws = createWorkspace('edit-api');
  process.env.VIDEOSHOP_CACHE = ws.env.VIDEOSHOP_CACHE;
  clip = await makeVideo(ws.file('clip.mp4'), { frames: 20, audio: true });
  edited = await firstFrame(clip, ws.file('edited.png'), { box: true });
});

after(() => ws?.remove());

const method = { steps: 4, seed: 3 };

test('editVideo on the AnimateLCM sampler: unguided by default, UNet calls counted per block', async () => {
  const output = path.join(ws.outDir(), 'out-lcm.mp4');
  const r = await editVideo({ video: clip, editedFrame: edited, output, model: ws.model, scheduler: 'animatelcm', steps: 4, seed: 3 });
  // Per block ⌊4·0.5⌋ = 2 inversion and 2 denoising calls, all batch 1 (guidance 1): 2 blocks × 4.
  assert.deepEqual([r.scheduler, r.steps, r.strength, r.unetCalls], ['animatelcm', 4, 0.5, 8]);
  assert.equal(r.frames, 20);
});

test('editVideo: the result object, progress per stage and block, and the file it describes', async () => {
  const outDir = ws.outDir();
  const output = path.join(outDir, 'out.mp4');
  const events: EditProgress[] = [];
  const warnings: string[] = [];
  const r = await editVideo({ video: clip, editedFrame: edited, output, model: ws.model, ...method },
    { onProgress: (p) => events.push(p), onWarning: (w) => warnings.push(w) });

  assert.equal(r.output, output);
  assert.equal(r.frames, 20);
  assert.equal(r.fps, 12);
  assert.deepEqual([r.width, r.height], [200, 120]);
  assert.deepEqual(r.processing, { width: 40, height: 24 });
  assert.deepEqual(r.blocks, [{ start: 0, end: 14 }, { start: 6, end: 20 }]);
  // Per block ⌊4·0.55⌋ = 2 inversion calls and 2 guided (batch-2) denoising calls.
  assert.equal(r.unetCalls, 2 * (2 + 2 * 2));
  assert.deepEqual([r.scheduler, r.steps, r.strength], ['euler', 4, 0.55]);
  assert.equal(r.audio, 'copied');
  assert.equal(r.model, ws.model);
  assert.deepEqual([r.device, r.dtype], ['cpu', 'float32']);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(warnings, []);
  const stages = ['load', 'read', 'encode', 'invert', 'denoise', 'decode', 'write'] as const;
  for (const s of stages) assert.ok(Number.isFinite(r.timings[s]) && r.timings[s] >= 0, `${s}: ${r.timings[s]}`);
  const parts = stages.reduce((a, s) => a + r.timings[s], 0);
  assert.ok(parts > 0 && parts <= r.timings.total + 1, `stages ${parts} ms within the total ${r.timings.total} ms`);

  // Every per-block stage reports each block, in order, and runs to its end; the writer counts to the frame count.
  for (const stage of ['read', 'encode', 'invert', 'denoise', 'decode'] as const) {
    for (const block of [1, 2]) {
      const of = events.filter((e) => e.stage === stage && e.block === block);
      assert.ok(of.length > 0, `${stage} of block ${block} reported`);
      assert.ok(of.every((e) => e.blocks === 2));
      assert.equal(of.at(-1)?.step, of.at(-1)?.total, `${stage} of block ${block} finishes`);
    }
  }
  // ⌊4·0.55⌋ = 2 steps each way.
  assert.equal(events.find((e) => e.stage === 'invert')?.total, 2);
  const writes = events.filter((e) => e.stage === 'write').map((e) => e.step);
  assert.deepEqual(writes, Array.from({ length: 20 }, (_, i) => i + 1));
  // One event type: every event carries the whole video's fraction (never decreasing, ending at 1) and the block.
  for (let i = 1; i < events.length; i++) assert.ok(events[i].fraction >= events[i - 1].fraction);
  assert.equal(events.at(-1)?.fraction, 1);
  assert.ok(events.filter((e) => e.stage === 'write').every((e) => e.block !== null && e.blocks === 2));

  const p = await probe(output);
  assert.deepEqual([p.frames, p.fps, p.width, p.height, p.audio], [20, '12/1', 200, 120, true]);
  assert.deepEqual(files(outDir), ['out.mp4']);
});

test('a model loaded once and passed in gives the same frames as loading it by folder, and is left open', async () => {
  const svd = await loadSvd(ws.model);
  try {
    const outDir = ws.outDir();
    const a = path.join(outDir, 'a.mp4');
    const b = path.join(outDir, 'b.mp4');
    const short = await makeVideo(ws.file('short.mp4'), { frames: 8 });
    const ra = await editVideo({ video: short, editedFrame: edited, output: a, ...method }, { model: svd });
    // Still usable after the first edit (editVideo releases only what it loaded itself). The pipeline's own option set
    // (`method`) is the same edit.
    await editVideo({ video: short, editedFrame: edited, output: b, method }, { model: svd });
    assert.equal(ra.model, ws.model);
    assert.ok((await decodeRgb(a)).equals(await decodeRgb(b)), 'same seed, same model: identical output');
    const c = path.join(outDir, 'c.mp4');
    await editVideo({ video: short, editedFrame: edited, output: c, model: ws.model, ...method });
    assert.ok((await decodeRgb(a)).equals(await decodeRgb(c)), 'a model passed in == the model loaded from its folder');
  } finally {
    await svd.release();
  }
});

test('blockAnchor: chained (the paper) and edit agree before the second block starts, and differ after', async () => {
  const outDir = ws.outDir();
  const run = async (blockAnchor: 'chained' | 'edit' | undefined, name: string) => {
    const output = path.join(outDir, `${name}.mkv`);
    // Lossless, so equal frames compare equal.
    await editVideo({ video: clip, editedFrame: edited, output, codec: 'ffv1', model: ws.model, ...method, ...(blockAnchor ? { blockAnchor } : {}) });
    return decodeRgb(output);
  };
  const chained = await run('chained', 'chained');
  const anchored = await run('edit', 'edit');
  assert.ok((await run(undefined, 'default')).equals(anchored), 'edit is the default');
  // Blocks [0, 14) and [6, 20): frames 0–6 are block 1's alone (frame 6 is the one block 2 is conditioned on).
  const frameBytes = 200 * 120 * 3;
  assert.ok(chained.subarray(0, 7 * frameBytes).equals(anchored.subarray(0, 7 * frameBytes)));
  assert.ok(!chained.subarray(7 * frameBytes).equals(anchored.subarray(7 * frameBytes)));
  await assert.rejects(editVideo({ video: clip, editedFrame: edited, output: path.join(outDir, 'x.mp4'), blockAnchor: 'previous' as never }),
    (e: VideoshopError) => e.field === 'block-anchor' && /must be one of chained, edit/.test(e.message));
});

test('an aborted signal stops editVideo with nothing written', async () => {
  const outDir = ws.outDir();
  const controller = new AbortController();
  let aborted = false;
  await assert.rejects(
    editVideo({ video: clip, editedFrame: edited, output: path.join(outDir, 'out.mp4'), model: ws.model, ...method },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.stage === 'invert' && !aborted) {
            aborted = true;
            controller.abort();
          }
        },
      }),
    (e: VideoshopError) => e instanceof VideoshopError && e.code === 'interrupted',
  );
  assert.ok(aborted);
  assert.deepEqual(files(outDir), []);
});

test('bad options are refused before any model is loaded, naming the field in each surface\'s words', async () => {
  const outDir = ws.outDir();
  const base = { video: clip, editedFrame: edited, output: path.join(outDir, 'out.mp4'), model: ws.file('no-model-here') };
  await assert.rejects(editVideo({ ...base, steps: 0 }), (e: VideoshopError) => {
    assert.equal(e.code, 'bad_option');
    assert.equal(e.field, 'steps');
    assert.equal(e.message, 'steps must be an integer in [1, 1000], got 0');
    assert.equal(e.render(cliNaming), '--steps must be an integer in [1, 1000], got 0');
    return true;
  });
  await assert.rejects(editVideo({ ...base, blockFrames: 10, blockOverlap: 6 }), (e: VideoshopError) => {
    assert.equal(e.field, 'block-overlap');
    assert.equal(e.message, 'blockOverlap 6: must be between 1 and half the block (5 frames)');
    assert.equal(e.render(apiNaming), 'block-overlap 6: must be between 1 and half the block (5 frames)');
    return true;
  });
  await assert.rejects(editVideo({ ...base, strength: 0.01 }), /strength 0\.01 of 25 steps runs no step: raise strength or steps/);
  await assert.rejects(editVideo({ ...base, codec: 'ffv1' }), (e: VideoshopError) => e.field === 'codec' && /\.mp4 cannot hold ffv1/.test(e.message));
  // The pipeline's own option set is checked too.
  await assert.rejects(editVideo({ ...base, method: { steps: 0 } }), /^VideoshopError: method: steps must be an integer in \[1, 1000\], got 0$/);
  await assert.rejects(editVideo({ ...base, stepz: 3 } as never), /unknown option "stepz"/);
  assert.deepEqual(files(outDir), []);
});

test('out of memory (ONNX Runtime / allocator texts) becomes one actionable line; other errors pass through', () => {
  const oom = [
    'std::bad_alloc',
    "Non-zero status code returned while running Conv node. Name:'/conv' Status Message: Failed to allocate memory for requested buffer of size 4294967296",
    '/onnxruntime/core/framework/bfc_arena.cc:359 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, Stream*) Available memory of 0 is smaller than requested bytes of 1073741824',
    'CUDA failure 2: out of memory ; GPU=0',
    'ENOMEM: not enough memory, read',
  ];
  for (const text of oom) {
    const mapped = explainFailure(new Error(text));
    assert.ok(mapped instanceof VideoshopError, text);
    assert.equal(mapped.code, 'out_of_memory');
    assert.equal(mapped.render(cliNaming), 'out of memory: try a smaller --size, fewer --block-frames, or a GPU (--device cuda)');
    assert.equal(mapped.message, 'out of memory: try a smaller size, fewer blockFrames, or a GPU (device: "cuda")');
  }
  const other = new Error('Non-zero status code returned while running MatMul node: shape mismatch');
  assert.equal(explainFailure(other), other);
  assert.equal(explainFailure('std::bad_alloc') instanceof VideoshopError, true, 'a thrown string is recognised too');
});

test('looksUnedited: export differences are not an edit; a small real edit, a recolour and a global shift are', () => {
  const w = 320;
  const h = 180;
  const plane = w * h;
  const base = new Float32Array(3 * plane);
  for (let i = 0; i < base.length; i++) base[i] = Math.sin(i * 0.37) * 0.8; // busy content
  const frame = (f: (v: number, i: number) => number) => tensor(base.map(f), [3, h, w]);
  const same = frame((v) => v);
  assert.equal(looksUnedited(same, frame((v) => v)), true);
  // ±1 level everywhere plus a few pixels off by 28 levels (what another decoder's chroma upsampling does at sharp
  // edges; JPEG at quality 90 moves single pixels by up to 27 levels, docs/locality.md): not an edit.
  assert.equal(looksUnedited(same, frame((v, i) => v + ((i % 2) * 2 - 1) / 127.5 + (i % plane < 4 ? 28 / 127.5 : 0))), true);
  // A 12×12 patch made white (0.25% of the frame): an edit.
  const patch = frame((v, i) => ((i % plane) % w < 12 && Math.floor((i % plane) / w) < 12 ? 1 : v));
  assert.equal(looksUnedited(same, patch), false);
  // A recolour that keeps the brightness (red ↔ blue channels swapped in a 20×20 patch): an edit.
  const swapped = frame((v, i) => {
    const p = i % plane, c = Math.floor(i / plane);
    return p % w < 20 && Math.floor(p / w) < 20 && c !== 1 ? -v : v;
  });
  assert.equal(looksUnedited(same, swapped), false);
  // A global brightness change of 13 levels: an edit.
  assert.equal(looksUnedited(same, frame((v) => v + 0.1)), false);
});
