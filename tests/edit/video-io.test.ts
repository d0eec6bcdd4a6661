/**
 * editVideo's video side end to end on the tiny model: a variable-frame-rate, rotated, non-square-pixel source
 * comes out with every frame at its time, turned and flagged like the input, same SAR; the CLIP embedding of block
 * 0 comes from the frames at their own resolution.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { editVideo } from '../../src/edit/edit-video.js';
import { loadSvd } from '../../src/models/svd.js';
import { exportFrame } from '../../src/video/export-frame.js';
import { probeVideo } from '../../src/video/probe.js';
import { frameTimes } from '../../src/video/timing.js';
import { createWorkspace, ffmpeg, type Workspace } from './fixtures.js';

let ws: Workspace;
let source: string;

before(async () => {
  ws = createWorkspace('edit-video-io');
  process.env.VIDEOSHOP_CACHE = ws.env.VIDEOSHOP_CACHE;
  const vfr = ws.file('vfr.mp4');
  // 8 frames at 10 fps then 8 at 20 fps, SAR 4:3, 96×64 stored.
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=96x64:r=20', '-vf', "trim=end_frame=16,setpts='if(lt(N,8),N*0.1,0.8+(N-8)*0.05)/TB',setsar=4/3",
    '-fps_mode', 'vfr', '-video_track_timescale', '1000', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', vfr]);
  source = ws.file('source.mp4');
  await ffmpeg(['-i', vfr, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', source]);
});

after(() => ws?.remove());

test('a VFR, rotated, SAR 4:3 source keeps every frame time (≤ 1 ms), its rotation and its SAR', async () => {
  const info = await probeVideo(source);
  assert.deepEqual([info.vfr, info.rotation, info.width, info.height], [true, 90, 64, 96]);
  const frame = ws.file('first.png');
  await exportFrame(source, frame);
  const model = await loadSvd(ws.model);
  const embedded: number[][] = [];
  const embed = model.models.imageEmbedder.embed.bind(model.models.imageEmbedder);
  model.models.imageEmbedder.embed = async (image) => {
    embedded.push([...image.dims]);
    return embed(image);
  };
  try {
    const output = path.join(ws.outDir(), 'out.mp4');
    const r = await editVideo({ video: source, editedFrame: frame, output, model: ws.model, method: { steps: 4 } }, { model });
    assert.equal(r.frames, 16);
    const back = await probeVideo(output);
    assert.deepEqual([back.rotation, back.width, back.height, back.sar], [90, 64, 96, { num: 4, den: 3 }]);
    const want = frameTimes(info)!.times;
    const got = frameTimes(back)!.times;
    assert.equal(got.length, 16);
    want.forEach((t, i) => assert.ok(Math.abs(got[i] - t) <= 1e-3, `frame ${i}: ${got[i]} vs ${t}`));
    // Block 0's two embeddings (source frame, edited frame) see 64×96, not the processing size.
    assert.deepEqual(embedded.slice(0, 2), [[3, 96, 64], [3, 96, 64]]);
    assert.notDeepEqual(r.processing, { width: 64, height: 96 });
  } finally {
    await model.release();
  }
});
