import { decode, VAN } from './experiments/real-footage.js';
const dir = '/tmp/videoshop-real-ScST2c';
const W = 768, H = 576, N = 30;
const src = decode('/usr/share/doc/opencv-doc/examples/data/vtest.avi').subarray(0, N * W * H * 3), dst = decode(dir + '/out.mkv');
const mask = decode(dir + '/mask.mkv');
for (let t = 0; t < N; t++) {
  let n = 0, x0 = W, x1 = 0, y0 = H, y1 = 0, mx0 = W, mx1 = 0, my0 = H, my1 = 0;
  for (let p = 0; p < W * H; p++) {
    const i = (t * W * H + p) * 3;
    const x = p % W, y = Math.floor(p / W);
    if (mask[i] > 0) { mx0 = Math.min(mx0, x); mx1 = Math.max(mx1, x); my0 = Math.min(my0, y); my1 = Math.max(my1, y); }
    if (src[i] !== dst[i] || src[i + 1] !== dst[i + 1] || src[i + 2] !== dst[i + 2]) { n++; x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  if (t % 5 === 0 || t === N - 1) console.log(t, 'changed px', n, 'box', x0, y0, x1, y1, 'mask box', mx0, my0, mx1, my1);
}
console.log(VAN);
