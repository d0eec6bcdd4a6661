/**
 * The locality module on synthetic motion with known answers: a textured background (moving with a camera pan or
 * still), a square that moves by a known step per frame; the edit recolours the square.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  boxBlurMask, colourDistance, compositeFrame, coverage, dilate, editedPixels, EditLocalizer, featherAlpha, maskIoU,
  removeSmallRegions, resizeMask, warpMask, type Mask,
} from '../../../src/pipeline/locality/index.js';
import { Random } from '../../../src/random.js';
import { tensor, type Tensor } from '../../../src/tensor.js';
import { makeTexture, renderFrame } from '../../eval/synthetic.js';

const W = 96, H = 64, SIDE = 16;
const textures = [makeTexture(1), makeTexture(2), makeTexture(3)];

/** Frame t: the background panned by `pan`·t, a square at (20 + 3t, 18 + t); inside it `colour` (RGB in [-1, 1]). */
function scene(t: number, colour: readonly number[] | undefined, pan = 0): Tensor {
  const f = renderFrame(textures, H, W, (x, y) => [x + pan * t, y]);
  if (colour) paintSquare(f, squareAt(t), colour);
  return f;
}

function squareAt(t: number): { x: number; y: number } {
  return { x: 20 + 3 * t, y: 18 + t };
}

function paintSquare(f: Tensor, at: { x: number; y: number }, colour: readonly number[]): void {
  for (let c = 0; c < 3; c++) {
    for (let y = at.y; y < at.y + SIDE; y++) for (let x = at.x; x < at.x + SIDE; x++) f.data[c * H * W + y * W + x] = colour[c];
  }
}

function squareMask(t: number): Mask {
  const data = new Float32Array(W * H);
  const at = squareAt(t);
  for (let y = at.y; y < at.y + SIDE; y++) for (let x = at.x; x < at.x + SIDE; x++) data[y * W + x] = 1;
  return { data, width: W, height: H };
}

// Red and a green of the same BT.601 luma: a recolour that keeps brightness.
const RED = [0.8, -0.6, -0.6];
const lumaRed = 0.299 * RED[0] + 0.587 * RED[1] + 0.114 * RED[2];
const GREEN_SAME_LUMA = [-0.6, (lumaRed + 0.6 * 0.299 + 0.6 * 0.114) / 0.587, -0.6];

test('a recolour that keeps brightness is a colour difference', () => {
  const a = scene(0, RED), b = scene(0, GREEN_SAME_LUMA);
  const d = colourDistance(a, b, 0);
  const at = squareAt(0);
  assert.ok(d[(at.y + 8) * W + at.x + 8] > 150, `inside the square: ${d[(at.y + 8) * W + at.x + 8]}`);
  assert.equal(d[2 * W + 2], 0);
});

test('the edited pixels are the edited square; export noise (±3 levels on every pixel) is no edit', () => {
  const source = scene(0, RED);
  const m = editedPixels(source, scene(0, GREEN_SAME_LUMA));
  // The square, and at most the blur's pixel around it.
  assert.ok(squareMask(0).data.every((v, i) => v === 0 || m.data[i] === 1));
  assert.ok(maskIoU(m, squareMask(0)) >= 0.75, `IoU ${maskIoU(m, squareMask(0))}`);
  const rng = new Random(7);
  const noisy = tensor(source.data.map((v) => v + (Math.round(rng.uniform() * 6) - 3) / 127.5), source.dims);
  assert.equal(coverage(editedPixels(source, noisy)), 0);
});

test('morphology: dilate grows a square by r, small regions go, the box blur keeps exact zeros', () => {
  const m = squareMask(0);
  assert.equal(coverage(dilate(m, 2)) * W * H, (SIDE + 4) ** 2);
  const speck: Mask = { data: m.data.map((v, i) => (i === 5 ? 1 : v)), width: W, height: H };
  assert.equal(coverage(removeSmallRegions(speck, 4)) * W * H, SIDE * SIDE);
  const b = boxBlurMask(m, 2);
  assert.equal(b.data[0], 0);
  assert.equal(b.data[(squareAt(0).y + 8) * W + squareAt(0).x + 8], 1);
});

test('featherAlpha is 1 on the mask and exactly 0 beyond the seam', () => {
  const a = featherAlpha(squareMask(0), 3);
  const at = squareAt(0);
  for (let y = at.y; y < at.y + SIDE; y++) for (let x = at.x; x < at.x + SIDE; x++) assert.equal(a.data[y * W + x], 1);
  // Beyond 2·3 pixels from the square: exactly 0.
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const far = x < at.x - 6 || x >= at.x + SIDE + 6 || y < at.y - 6 || y >= at.y + SIDE + 6;
      if (far) assert.equal(a.data[y * W + x], 0, `(${x}, ${y})`);
    }
  }
});

test('warpMask moves a mask by a known flow', () => {
  const flow = tensor(new Float32Array(2 * W * H), [2, H, W]);
  flow.data.fill(-3, 0, W * H); // current(x) = previous(x − 3): things moved 3 px right
  flow.data.fill(-1, W * H); // and 1 px down
  const moved = warpMask(squareMask(0), flow);
  assert.ok(maskIoU(moved, squareMask(1)) > 0.99);
});

for (const pan of [0, 1]) {
  test(`the edit's mask follows a moving square${pan ? ' under a camera pan' : ''}; outside it the output is the source exactly`, () => {
    const source = Array.from({ length: 8 }, (_, t) => scene(t, RED, pan));
    // What a model would produce: the square recoloured, and a little noise everywhere (its drift).
    const rng = new Random(3);
    const generated = Array.from({ length: 8 }, (_, t) => {
      const f = scene(t, GREEN_SAME_LUMA, pan);
      return tensor(f.data.map((v) => v + (rng.uniform() - 0.5) * 0.05), f.dims);
    });
    const localizer = new EditLocalizer(source[0], generated[0]);
    assert.equal(localizer.global, false);
    for (let t = 0; t < 8; t++) {
      const mask = localizer.next(source[t], generated[t]);
      const truth = squareMask(t);
      // The mask covers the square (grown by the margin), and not much more.
      const covered = truth.data.every((v, i) => v === 0 || mask.data[i] === 1);
      assert.ok(covered, `frame ${t}: the square is not covered`);
      assert.ok(coverage(mask) < 4 * coverage(truth), `frame ${t}: mask ${coverage(mask)} vs square ${coverage(truth)}`);
      const out = compositeFrame(source[t], generated[t], localizer.alpha(mask));
      const alpha = localizer.alpha(mask);
      for (let i = 0; i < W * H; i++) {
        if (alpha.data[i] === 0) for (let c = 0; c < 3; c++) assert.equal(out.data[c * W * H + i], source[t].data[c * W * H + i]);
      }
    }
  });
}

test('compositing at the source size: the model frame is scaled up inside, the source copied outside', () => {
  const big = scene(0, RED); // 96×64 "source"
  const small = tensor(new Float32Array(3 * 16 * 24).fill(0.5), [3, 16, 24]); // the model's frame, 4× smaller
  const alpha = resizeMask(squareMask(0), 24, 16);
  const out = compositeFrame(big, small, { ...alpha, data: alpha.data.map((v) => (v >= 0.5 ? 1 : 0)) });
  const at = squareAt(0);
  assert.equal(out.data[(at.y + 8) * W + at.x + 8], 0.5);
  assert.equal(out.data[2 * W + 2], big.data[2 * W + 2]);
  assert.equal(out.data[60 * W + 90], big.data[60 * W + 90]);
});

test('an edit of most of the frame is global', () => {
  const source = scene(0, RED);
  const everything = tensor(source.data.map((v) => -v), source.dims);
  assert.equal(new EditLocalizer(source, everything).global, true);
});

test('the user\'s marks: `userMask` adds a region, `keepMask` takes one out (it wins), on the first frame even after growth', () => {
  const source = scene(0, RED), edited = scene(0, GREEN_SAME_LUMA);
  const at = squareAt(0);
  const box = (x0: number, y0: number, w: number, h: number): Mask => {
    const data = new Float32Array(W * H);
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * W + x] = 1;
    return { data, width: W, height: H };
  };
  const far = box(70, 40, 12, 12);
  // The right half of the square marked unedited, and a far patch marked edited.
  const keep = box(at.x + SIDE / 2, 0, W - at.x - SIDE / 2, H);
  const plain = new EditLocalizer(source, edited);
  const marked = new EditLocalizer(source, edited, { userMask: far, keepMask: keep });
  const on = (m: Mask, x: number, y: number) => m.data[y * W + x] > 0.5;
  assert.ok(on(plain.firstRegion, at.x + SIDE - 2, at.y + 8) && !on(plain.firstRegion, 75, 45));
  assert.ok(on(marked.firstRegion, at.x + 2, at.y + 8), 'the left half of the square is still the edit');
  assert.ok(!on(marked.firstRegion, at.x + SIDE - 2, at.y + 8), 'the kept half is out');
  assert.ok(!on(marked.firstRegion, 75, 45), 'the far mark is inside the kept part (keep wins)');
  // Frame 0's mask, grown for the seam: nothing of it inside the kept region.
  const first = marked.next(source, edited);
  assert.ok(first.data.every((v, i) => keep.data[i] === 0 || v === 0), 'the first mask stays out of the kept region');
  // A keep mark elsewhere leaves the edit as it was; an added mark there joins it.
  const added = new EditLocalizer(source, edited, { userMask: box(4, 4, 10, 10) });
  assert.ok(on(added.firstRegion, 8, 8) && on(added.firstRegion, at.x + 8, at.y + 8));
});
