import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timeArg } from '../../src/cli/args.js';
import { VideoshopError } from '../../src/util/errors.js';
import type { VideoInfo } from '../../src/video/probe.js';
import { frameTime, frameTimes, placeTimes, segmentFrames } from '../../src/video/timing.js';

/** 10 frames at 10 fps then 10 at 20 fps, time base 1/1000, starting at pts 500. */
const vfr = {
  frameCount: 20, vfr: true, fps: { num: 40, den: 3 }, timeBase: { num: 1, den: 1000 },
  pts: [...Array.from({ length: 10 }, (_, i) => 500 + i * 100), ...Array.from({ length: 10 }, (_, i) => 1500 + i * 50)],
} as unknown as VideoInfo;
const cfr = { frameCount: 10, vfr: false, fps: { num: 30000, den: 1001 }, timeBase: { num: 1, den: 30000 }, pts: [] } as unknown as VideoInfo;

describe('frame timing', () => {
  it('frameTimes: every frame from the first, the last lasting as long as the one before; undefined for CFR', () => {
    const t = frameTimes(vfr)!;
    assert.deepEqual(t.times.slice(8, 12), [0.8, 0.9, 1, 1.05]);
    assert.ok(Math.abs(t.end - 1.5) < 1e-9);
    const seg = frameTimes(vfr, 9, 3)!;
    assert.deepEqual([seg.times.map((x) => +x.toFixed(6)), +seg.end.toFixed(6)], [[0, 0.1, 0.15], 0.2]);
    assert.equal(frameTimes(cfr), undefined);
  });

  it('segmentFrames: first frame at or after the start, up to the end of the duration', () => {
    assert.deepEqual(segmentFrames(vfr), { start: 0, count: 20 });
    assert.deepEqual(segmentFrames(vfr, 1), { start: 10, count: 10 });
    assert.deepEqual(segmentFrames(vfr, 0.95, 0.2), { start: 10, count: 3 });
    assert.deepEqual(segmentFrames(cfr, 0.1, 0.1), { start: 3, count: 3 });
    assert.ok(Math.abs(frameTime(cfr, 3) - 3003 / 30000) < 1e-12);
    assert.throws(() => segmentFrames(vfr, 2), /start 2 s is past the last frame \(at 1\.450 s\)/);
    assert.throws(() => segmentFrames(vfr, -1), (e: VideoshopError) => e instanceof VideoshopError && e.field === 'start');
    assert.throws(() => segmentFrames(vfr, 0, 0), /duration must be a positive time/);
  });

  it('placeTimes: each time to the nearest tick; frames closer than a tick (or at one time) one tick after the one before', () => {
    const ms = { num: 1, den: 1000 };
    const growing = placeTimes({ times: [0, 0.04, 0.12, 0.28, 0.6, 1.24, 2.52, 5.08], end: 7.64 }, ms);
    assert.deepEqual([growing.times, growing.end, growing.pushed], [[0, 0.04, 0.12, 0.28, 0.6, 1.24, 2.52, 5.08], 7.64, 0]);
    assert.ok(growing.moved < 1e-12);
    const crowded = placeTimes({ times: [0, 0.0004, 0.0008, 0.0008, 0.1012, 0.1016], end: 0.102 }, ms);
    assert.deepEqual(crowded.times, [0, 0.001, 0.002, 0.003, 0.101, 0.102]);
    assert.deepEqual([crowded.end, crowded.pushed, +crowded.moved.toFixed(6)], [0.103, 3, 0.0022]);
    const fine = placeTimes({ times: [0, 0.0004, 1 / 3], end: 0.5 }, { num: 1, den: 90000 });
    assert.deepEqual([fine.times.map((t) => Math.round(t * 90000)), fine.pushed], [[0, 36, 30000], 0]);
    assert.ok(fine.moved <= 0.5 / 90000);
  });

  it('parses times as seconds or [h:]m:s', () => {
    const p = timeArg('start');
    assert.deepEqual(['12.5', '1:02.5', '1:00:02', '0'].map(p), [12.5, 62.5, 3602, 0]);
    for (const bad of ['', '-1', '1:2:3:4', 'abc', '1.5:00']) assert.throws(() => p(bad), /^VideoshopError: start must be seconds/);
  });
});
