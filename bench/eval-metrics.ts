/**
 * Timing of the evaluation metrics on a paper-sized clip: 14 frames of 576×1024 (SVD's resolution), source and an
 * "edited" copy moving differently. Run: node --import tsx bench/eval-metrics.ts [frames] [height] [width]
 */
import { videoFlowError } from '../src/eval/epe.js';
import { videoFlows } from '../src/image/flow.js';
import { videoPsnr } from '../src/eval/psnr.js';
import { videoSsim } from '../src/eval/ssim.js';
import { makeTexture, movingVideo } from '../tests/eval/synthetic.js';

const [frames = 14, height = 576, width = 1024] = process.argv.slice(2).map(Number);
const textures = [makeTexture(1, 6), makeTexture(2, 6), makeTexture(3, 6)];
const source = movingVideo(textures, frames, height, width, 1.5, -0.5);
const edited = movingVideo(textures, frames, height, width, 2, -0.5);

function time<T>(what: string, f: () => T): T {
  const t0 = performance.now();
  const r = f();
  console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return r;
}

console.log(`${frames} frames of ${height}×${width}`);
console.log('SSIM', time('SSIM (all frames)', () => videoSsim(edited, source)).toFixed(4));
console.log('PSNR', time('PSNR (all frames)', () => videoPsnr(edited, source)).toFixed(3));
for (const downscale of [1, 2]) {
  const a = time(`flow, source video, downscale ${downscale}`, () => videoFlows(source, { downscale }));
  const b = time(`flow, edited video, downscale ${downscale}`, () => videoFlows(edited, { downscale }));
  console.log(`Flow (downscale ${downscale}) = ${videoFlowError(a, b).toFixed(4)} px (expected ≈ 0.5)`);
}
