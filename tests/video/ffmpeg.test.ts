import { VideoshopError } from '../../src/util/errors.js';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ffmpegPath, ffprobePath, lastErrorLine } from '../../src/video/ffmpeg.js';

describe('locating ffmpeg', () => {
  const saved = { PATH: process.env.PATH, FFMPEG_PATH: process.env.FFMPEG_PATH, FFPROBE_PATH: process.env.FFPROBE_PATH };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('finds the system binaries on PATH', () => {
    delete process.env.FFMPEG_PATH;
    delete process.env.FFPROBE_PATH;
    assert.match(ffmpegPath(), /ffmpeg$/);
    assert.match(ffprobePath(), /ffprobe$/);
  });

  it('honours FFMPEG_PATH / FFPROBE_PATH and rejects bad ones', () => {
    const real = ffmpegPath();
    process.env.FFMPEG_PATH = real;
    process.env.PATH = '';
    assert.equal(ffmpegPath(), real);
    assert.equal(ffprobePath(), real.replace(/ffmpeg$/, 'ffprobe')); // found next to ffmpeg
    process.env.FFMPEG_PATH = '/nonexistent/ffmpeg';
    assert.throws(() => ffmpegPath(), /^VideoshopError: FFMPEG_PATH=\/nonexistent\/ffmpeg is not an executable file$/);
    process.env.FFPROBE_PATH = '/nonexistent/ffprobe';
    assert.throws(() => ffprobePath(), /FFPROBE_PATH=\/nonexistent\/ffprobe is not an executable file/);
  });

  it('says how to install ffmpeg when it is missing, in one line', () => {
    delete process.env.FFMPEG_PATH;
    delete process.env.FFPROBE_PATH;
    process.env.PATH = '/nonexistent';
    assert.throws(() => ffmpegPath(), (err: Error) => {
      assert.equal(
        err.message,
        'ffmpeg not found: install it (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg) or set FFMPEG_PATH',
      );
      assert.ok(err instanceof VideoshopError, 'a refusal the CLI prints as one line');
      return true;
    });
    assert.throws(() => ffprobePath(), /^VideoshopError: ffprobe not found: install ffmpeg .* or set FFPROBE_PATH$/);
  });

  it('extracts the telling line of an ffmpeg error', () => {
    const stderr = '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c1a2b3c0] moov atom not found\nx.mp4: Invalid data found when processing input\n';
    assert.equal(lastErrorLine(stderr), 'x.mp4: Invalid data found when processing input');
    assert.equal(lastErrorLine('[libx264 @ 0xabc] broken thing\nConversion failed!\n'), 'broken thing');
    assert.equal(lastErrorLine(''), 'no error message');
  });
});
