/**
 * Quality regression on the trained toy model: a few held-out scenes (seeds never used in training), scored against
 * their ground-truth edited videos. Floors sit a few dB under the measured values (bench/quality.ts, docs/quality.md)
 * so that noise between machines passes and a broken pipeline or model does not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { editCase, reconstruction, runMethod, scoreEdit } from '../../src/eval/quality.js';
import { loadSvd, type SvdModel } from '../../src/models/svd.js';

/** Measured on this model (docs/quality.md) minus a margin. */
const FLOORS = { reconstructionPsnr: 20, videoshopOverNoSource: 4 };

describe('edit quality (toy model, held-out scenes)', () => {
  let svd: SvdModel;
  before(async () => { svd = await loadSvd('toy', { threads: 2 }); });
  after(async () => { await svd?.release(); });

  test('reconstruction (invert, regenerate from the unedited frame) stays above its floor', async () => {
    const r = await reconstruction(svd, editCase(0, 'recolor'));
    console.log(`reconstruction ${r.psnr.toFixed(2)} dB`);
    assert.ok(r.psnr >= FLOORS.reconstructionPsnr, `reconstruction PSNR ${r.psnr.toFixed(2)} dB < ${FLOORS.reconstructionPsnr}`);
  });

  test('videoshop beats SVD without the source video (no-source) against ground truth', async () => {
    let gain = 0;
    const cases = [editCase(0, 'recolor'), editCase(1, 'replace-shape')];
    for (const c of cases) {
      const ours = scoreEdit(await runMethod(svd, 'videoshop', c.source, c.editedFrame), c);
      const plain = scoreEdit(await runMethod(svd, 'no-source', c.source, c.editedFrame), c);
      gain += (ours.psnr_gt - plain.psnr_gt) / cases.length;
    }
    console.log(`videoshop − no-source ${gain.toFixed(2)} dB`);
    assert.ok(gain >= FLOORS.videoshopOverNoSource, `videoshop − no-source = ${gain.toFixed(2)} dB < ${FLOORS.videoshopOverNoSource}`);
  });
});
