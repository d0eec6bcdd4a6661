/** bench/pipeline.ts: the mid model's scaled configs, the measuring helpers, and one tiny run end to end (no torch). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseClipVisionConfig } from '../../src/models/clip/config.js';
import { parseUnetConfig } from '../../src/models/unet/config.js';
import { parseVaeConfig } from '../../src/models/vae/config.js';
import { scaledConfigs, SVD_CONFIGS_DIR } from '../../bench/pipeline/models.js';
import { maxAbsDiff, median, summarize } from '../../bench/pipeline/stats.js';
import { parameterCounts } from '../../bench/pipeline/weights.js';
import { repoRoot } from '../helpers/oracle.js';

test('width 1 is SVD\'s config files verbatim (1.5 G-parameter UNet)', () => {
  const c = scaledConfigs(1);
  assert.equal(c.text?.clip, readFileSync(path.join(SVD_CONFIGS_DIR, 'image_encoder', 'config.json'), 'utf8'));
  assert.deepEqual(parameterCounts(c), { unet: 1524623082, vae: 97742847, clip: 632076800 });
});

test('width 0.4 keeps depth, block types and head sizes, and parses', () => {
  const c = scaledConfigs(0.4);
  assert.equal(c.text, undefined);
  const unet = parseUnetConfig(c.unet);
  assert.deepEqual(unet.blockOutChannels, [128, 256, 512, 512]);
  assert.deepEqual(c.unet.num_attention_heads, [2, 4, 8, 8]); // 64-wide heads, as SVD's 320/5
  assert.deepEqual(c.unet.down_block_types, scaledConfigs(1).unet.down_block_types);
  assert.deepEqual(parseVaeConfig(c.vae).blockOutChannels, [64, 96, 192, 192]);
  const clip = parseClipVisionConfig(c.clip);
  assert.deepEqual([clip.hiddenSize, clip.numAttentionHeads, clip.intermediateSize, clip.numHiddenLayers, clip.projectionDim],
    [480, 6, 1920, 32, 1024]);
  assert.equal('initializer_factor' in c.clip, false); // 1.0 would be written as 1, which transformers refuses
});

test('median, summarize, maxAbsDiff', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.deepEqual(summarize([2, 1, 4]), { median: 2, min: 1, max: 4, n: 3 });
  assert.equal(summarize([]), null);
  assert.equal(maxAbsDiff(Float32Array.of(1, 2), Float32Array.of(1.5, 1)), 1);
  assert.equal(maxAbsDiff(Float32Array.of(NaN), Float32Array.of(0)), Infinity);
});

test('npm run bench -- --models tiny --no-torch: one JSON object with every stage and 13 + 13 UNet calls', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'videoshop-bench-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/pipeline.ts', '--json', '--models', 'tiny', '--no-torch', '--no-locality', '--work', work],
      { cwd: repoRoot, encoding: 'utf8', timeout: 55_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const tiny = report.models.tiny;
    for (const stage of ['load', 'read', 'encode', 'invert', 'denoise', 'decode', 'write', 'total']) {
      assert.ok(tiny.stages_ms[stage] > 0, `stage ${stage}: ${tiny.stages_ms[stage]}`);
    }
    assert.equal(tiny.unet_calls_in_edit.inversion_batch1_ms.n, 13);
    assert.equal(tiny.unet_calls_in_edit.guided_batch2_ms.n, 13);
    assert.ok(tiny.outside_ort.share > 0 && tiny.outside_ort.share < 0.5, String(tiny.outside_ort.share));
    assert.equal(tiny.outside_ort.ort_runs, 33); // 13 + 13 UNet, 4 VAE encodes, 2 CLIP, 1 VAE decode
    assert.equal(tiny.calls.unet_batch2.theirs_ms, null);
    assert.ok(tiny.calls.unet_batch1.ours_ms.n >= 3);
    assert.equal(tiny.edit_output.frames, 14);
    // The same edit on AnimateLCM's defaults: 4 + 4 single calls instead of 13 + 2·13.
    assert.equal(tiny.edit_per_scheduler.euler.unet_calls, 39);
    assert.equal(tiny.edit_per_scheduler.animatelcm.unet_calls, 8);
    assert.ok(tiny.edit_per_scheduler.animatelcm.total_ms > 0);
    assert.deepEqual(report.summary.tiny.unet_calls_per_scheduler, { euler: 39, animatelcm: 8 });
    assert.ok(tiny.peak_rss_mb > 50);
    assert.match(tiny.notes.join(' '), /--no-torch/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
