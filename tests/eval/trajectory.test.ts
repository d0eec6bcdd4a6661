/** The Fig. 3 trajectory diagnostic: hand-made vectors with known answers, torch parity, CSV. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { oracleDir, oracleSkip } from '../helpers/oracle.js';
import { aggregateTrajectoryStats, trajectoryCsv, trajectoryMatrix, trajectoryStats } from '../../src/eval/trajectory.js';

const f32 = (v: number[]): Float32Array => Float32Array.from(v);

describe('trajectory diagnostic', () => {
  test('collinear x_t − x_0 (same direction) → every similarity 1', () => {
    const x0 = f32([1, 2, 3]);
    const latents = [4, 3, 2, 0.5].map((k) => f32([1 + k, 2 - 2 * k, 3 + 0.5 * k]));
    const m = trajectoryMatrix(latents, x0);
    for (const v of m.values) assert.ok(Math.abs(v - 1) < 1e-6);
    const s = trajectoryStats(m);
    assert.ok(Math.abs(s.meanAllPairs - 1) < 1e-6 && Math.abs(s.meanAdjacent - 1) < 1e-6 && Math.abs(s.minAdjacent - 1) < 1e-6);
  });

  test('orthogonal differences → 0 off the diagonal (diagonal 1, excluded from the means)', () => {
    const x0 = f32([0, 0, 0]);
    const m = trajectoryMatrix([f32([2, 0, 0]), f32([0, 3, 0]), f32([0, 0, 1])], x0);
    assert.deepEqual(Array.from(m.values), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.deepEqual(trajectoryStats(m), { meanAllPairs: 0, meanAdjacent: 0, minAdjacent: 0 });
  });

  test('mixed: all-pairs mean, adjacent mean and minimum by hand', () => {
    // Directions at 0°, 60°, 90° → cos: (0,1)=0.5, (1,2)=cos 30°, (0,2)=0.
    const d = [[1, 0], [0.5, Math.sqrt(3) / 2], [0, 1]];
    const m = trajectoryMatrix(d.map((v) => f32(v)), f32([0, 0]));
    const s = trajectoryStats(m);
    const c30 = Math.sqrt(3) / 2;
    assert.ok(Math.abs(s.meanAllPairs - (0.5 + c30 + 0) / 3) < 1e-6);
    assert.ok(Math.abs(s.meanAdjacent - (0.5 + c30) / 2) < 1e-6);
    assert.ok(Math.abs(s.minAdjacent - 0.5) < 1e-6);
    const agg = aggregateTrajectoryStats([s, { meanAllPairs: 1, meanAdjacent: 1, minAdjacent: 0.2 }]);
    assert.ok(Math.abs(agg.meanAllPairs - (s.meanAllPairs + 1) / 2) < 1e-12);
    assert.equal(agg.minAdjacent, 0.2);
  });

  test('matches torch on a bending trajectory', { skip: oracleSkip('metrics') }, () => {
    const o = JSON.parse(readFileSync(path.join(oracleDir('metrics'), 'metrics.json'), 'utf8')).trajectory as {
      x0: number[]; latents: number[][]; matrix: number[][]; mean_all_pairs: number; mean_adjacent: number; min_adjacent: number;
    };
    const m = trajectoryMatrix(o.latents.map(f32), f32(o.x0));
    o.matrix.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(m.values[i * m.size + j] - v) < 1e-12, `(${i}, ${j})`)));
    const s = trajectoryStats(m);
    assert.ok(Math.abs(s.meanAllPairs - o.mean_all_pairs) < 1e-12);
    assert.ok(Math.abs(s.meanAdjacent - o.mean_adjacent) < 1e-12);
    assert.ok(Math.abs(s.minAdjacent - o.min_adjacent) < 1e-12);
    assert.ok(s.minAdjacent < s.meanAdjacent && s.meanAllPairs < 1);
  });

  test('x_t equal to x_0 has no direction and is refused; too few latents too', () => {
    assert.throws(() => trajectoryMatrix([f32([1, 1]), f32([0, 0])], f32([0, 0])), /latent 1 equals x_0/);
    assert.throws(() => trajectoryStats(trajectoryMatrix([f32([1, 1])], f32([0, 0]))), /at least 2/);
  });

  test('CSV: header of labels (σ, or the state index without labels), one row per state', () => {
    const m = trajectoryMatrix([f32([1, 0]), f32([0, 1])], f32([0, 0]));
    assert.equal(trajectoryCsv(m), 'state,0,1\n0,1,0\n1,0,1\n');
    assert.equal(trajectoryCsv(m, [700.5, 'σ,min']), 'sigma,700.5,"σ,min"\n700.5,1,0\n"σ,min",0,1\n');
    assert.throws(() => trajectoryCsv(m, [1]), /1 labels for 2 rows/);
  });
});
