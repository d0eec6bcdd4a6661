/** What a worker says reaches the page without the server's paths: the job's files by what they are, others vaguely. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutServerPaths } from '../../src/server/job-options.js';

const video = { name: 'holiday.mp4', file: 'video-3f2a.mp4' };

test('the job files are named by what they are, other absolute paths as "a file on the server"', () => {
  assert.equal(withoutServerPaths('/tmp/vs/jobs/ab12/edited.png has transparent pixels; the alpha channel is ignored', video),
    'the edited frame has transparent pixels; the alpha channel is ignored');
  assert.equal(withoutServerPaths('/srv/data/jobs/ab12/video-3f2a.mp4 has damaged frames that ffmpeg conceals (2)', video),
    'holiday.mp4 has damaged frames that ffmpeg conceals (2)');
  assert.equal(withoutServerPaths('cannot write /var/lib/videoshop/jobs/ab12/result.mp4: disk full', video), 'cannot write the result: disk full');
  assert.equal(withoutServerPaths('model files missing in /root/.cache/videoshop/models/x (run again)', video),
    'model files missing in a file on the server (run again)');
  assert.equal(withoutServerPaths('C:\\data\\jobs\\ab12\\edited.png is empty', video), 'the edited frame is empty');
});

test('a job\'s keyframes by their field names, the earlier result of a section re-render as such', () => {
  assert.equal(withoutServerPaths('keyframe: "0.5=/srv/data/jobs/ab12/keyframe-3.png": frame 6 is outside the edited section', video),
    'keyframe: "0.5=keyframe_3": frame 6 is outside the edited section');
  assert.equal(withoutServerPaths('into: frames outside the section are re-encoded with h264 (within its loss of /srv/data/jobs/ab12/into.mp4, not identical)', video),
    'into: frames outside the section are re-encoded with h264 (within its loss of the earlier result, not identical)');
});

test('what is not a path is left alone', () => {
  for (const text of ['block 2/3: the edit covers 80% of the frame', 'fps 30000/1001 is variable', 'recolour and/or replace', 'see https://example.org/docs']) {
    assert.equal(withoutServerPaths(text, video), text);
  }
});

test('serve --unet: a job\'s fields carry the operator\'s UNet file, so its plan and sampler follow it (AnimateLCM: 8 calls)', async () => {
  const { parseJobOptions } = await import('../../src/server/job-options.js');
  const { checkEditRequest } = await import('../../src/edit/index.js');
  const { fields, given } = parseJobOptions({ steps: 4 }, 'toy', '/srv/AnimateLCM-SVD-xt.safetensors');
  assert.equal(fields.unet, '/srv/AnimateLCM-SVD-xt.safetensors');
  assert.deepEqual(given, { steps: 4 }, 'the server path is not shown back');
  const r = checkEditRequest({ video: 'v', editedFrame: 'e', output: 'o.mp4', ...fields });
  assert.equal(r.methodOptions.sampler, 'animatelcm');
  assert.equal(parseJobOptions({}, 'toy').fields.unet, undefined);
});
