import assert from 'node:assert/strict';
import { chmodSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { probeVideo } from '../../src/video/probe.js';
import { dir, fixtures } from './fixtures.js';

describe('probeVideo', () => {
  it('reads size, exact fps, frame count, duration, codecs of an mp4', async () => {
    const info = await probeVideo(await fixtures.mp4());
    assert.equal(info.width, 200);
    assert.equal(info.height, 120);
    assert.equal(info.rotation, 0);
    assert.deepEqual(info.fps, { num: 12, den: 1 });
    assert.equal(info.fpsValue, 12);
    assert.equal(info.frameCount, 20);
    assert.ok(Math.abs(info.durationSeconds - 20 / 12) < 0.01, `duration ${info.durationSeconds}`);
    assert.equal(info.hasAudio, true);
    assert.equal(info.audioCodec, 'aac');
    assert.equal(info.codec, 'h264');
    assert.equal(info.pixFmt, 'yuv420p');
  });

  it('keeps an NTSC rate as the exact rational 30000/1001', async () => {
    const info = await probeVideo(await fixtures.ntsc());
    assert.deepEqual(info.fps, { num: 30000, den: 1001 });
    assert.equal(info.frameCount, 10);
  });

  const containers = [
    ['mov', fixtures.mov, 'h264', 'pcm_s16le'],
    ['webm (no frame count in the header)', fixtures.webm, 'vp9', 'opus'],
    ['avi', fixtures.avi, 'mpeg4', 'mp3'],
    ['gif', fixtures.gif, 'gif', undefined],
  ] as const;
  for (const [name, make, codec, audio] of containers) {
    it(`reads a ${name}`, async () => {
      const info = await probeVideo(await make());
      assert.equal(info.codec, codec);
      assert.equal(info.audioCodec, audio);
      assert.equal(info.hasAudio, audio !== undefined);
      assert.equal(info.frameCount, 20);
      assert.deepEqual([info.width, info.height], [200, 120]);
      // A GIF's 8-centisecond delays average 12.08 fps; the nominal 12/1 wins.
      assert.deepEqual(info.fps, { num: 12, den: 1 });
      // The 2 s audio track must not stretch the video's duration (within a frame: this AVI's header counts 21).
      assert.ok(Math.abs(info.durationSeconds - 20 / 12) <= 1 / 12 + 1e-6, `duration ${info.durationSeconds}`);
    });
  }

  it('reports odd sizes as they are', async () => {
    const info = await probeVideo(await fixtures.odd());
    assert.deepEqual([info.width, info.height, info.frameCount], [99, 57, 20]);
  });

  it('reports the displayed (rotated) size', async () => {
    const info = await probeVideo(await fixtures.rotated());
    assert.deepEqual([info.codedWidth, info.codedHeight], [200, 120]);
    assert.deepEqual([info.width, info.height], [120, 200]);
    assert.ok(info.rotation === 90 || info.rotation === 270, `rotation ${info.rotation}`);
  });

  const failures = [
    ['a missing file', async () => path.join(dir, 'nope.mp4'), /^video not found: .*nope\.mp4$/],
    ['an empty file', fixtures.empty, /^video file is empty \(0 bytes\)/],
    ['a text file named .mp4', fixtures.text, /^not a video ffmpeg can read: .*text\.mp4 \(Invalid data/],
    ['a video stream without frames', fixtures.zeroFrames, /^video has no frames: .*zero-frames\.mkv$/],
    ['an audio-only file', fixtures.audioOnly, /^no video stream in .*tone\.mp3$/],
    ['an mp4 cut before its index', fixtures.truncatedNoIndex, /^video is truncated or incomplete \(its MP4 index is missing\)/],
    ['an mp4 cut in its media data', fixtures.truncated, /^video is truncated or corrupt \(\d+ of 20 frames present\)/],
    ['a folder', async () => dir, /^not a video file: .* is a directory$/],
  ] as const;
  for (const [name, make, message] of failures) {
    it(`fails with one clear line on ${name}`, async () => {
      const file = await make();
      await assert.rejects(probeVideo(file), (err: Error) => {
        assert.equal(err.name, 'VideoshopError');
        assert.match(err.message, message);
        assert.ok(!err.message.includes('\n'));
        return true;
      });
    });
  }

  it('says so when the file is not readable', { skip: process.getuid?.() === 0 && 'root reads everything' }, async () => {
    const file = path.join(dir, 'locked.mp4');
    copyFileSync(await fixtures.mp4(), file);
    chmodSync(file, 0o000);
    await assert.rejects(probeVideo(file), /^VideoshopError: cannot read video .*locked\.mp4: permission denied$/);
  });
});
