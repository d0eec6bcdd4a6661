import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { assertRefused, cliInProcess } from '../helpers/cli-inprocess.js';
import { dir, fixtures } from '../video/fixtures.js';

const run = promisify(execFile);

async function ffmpegFrame(file: string, index: number): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${index})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

const out = (name: string): string => path.join(mkdtempSync(path.join(dir, 'frame-')), name);

describe('videoshop frame', () => {
  it('exports frame N exactly as ffmpeg decodes it (rgb24), one line on stdout', async () => {
    const src = await fixtures.mp4();
    const png = out('f7.png');
    const r = await cliInProcess('frame', src, '--index', '7', '-o', png);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out.join('\n'), /^wrote .*f7\.png: frame 7 \(0\.583 s\), 200×120, 8-bit$/);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [200, 120, 3]);
    assert.deepEqual(data, await ffmpegFrame(src, 7));
    assert.deepEqual(readdirSync(path.dirname(png)), ['f7.png']);
  });

  it('applies rotation, finds frames by time (VFR too), and keeps 16 bits of a 10-bit source', async () => {
    const turned = out('turned.png');
    assert.equal((await cliInProcess('frame', await fixtures.rotated(), '-o', turned)).code, 0);
    assert.deepEqual([(await sharp(turned).metadata()).width, (await sharp(turned).metadata()).height], [120, 200]);
    const vfr = out('vfr.png');
    const r = await cliInProcess('frame', await fixtures.vfr(), '--time', '1.02', '-o', vfr);
    assert.match(r.out.join('\n'), /frame 11 \(1\.050 s\)/);
    const deep = out('deep.png');
    const d = await cliInProcess('frame', await fixtures.yuv('bt709', 'tv', 'yuv444p10le'), '-o', deep);
    assert.match(d.out.join('\n'), /1280×720, 16-bit/);
    assert.equal((await sharp(deep).metadata()).depth, 'ushort');
  });

  it('refuses with one line: existing output, both --index and --time, a frame past the end, not .png', async () => {
    const src = await fixtures.mp4();
    const existing = out('there.png');
    writeFileSync(existing, 'keep me');
    assertRefused(await cliInProcess('frame', src, '-o', existing), /there\.png already exists: .* --force/);
    assertRefused(await cliInProcess('frame', src, '--index', '1', '--time', '1', '-o', out('x.png')), /give --index or --time, not both/);
    assertRefused(await cliInProcess('frame', src, '--index', '20', '-o', out('x.png')), /frame 20 does not exist: .* has frames 0–19/);
    const jpg = out('x.jpg');
    assertRefused(await cliInProcess('frame', src, '-o', jpg), /must end in \.png/);
    assert.ok(!existsSync(jpg));
  });
});
