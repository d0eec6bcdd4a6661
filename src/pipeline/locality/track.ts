/**
 * Following a region through a video with the video's own motion: dense optical flow between consecutive source
 * frames (Farnebäck, src/image/flow.ts) pulls the previous frame's mask into the current one. Backward flow (current
 * → previous) is used so that every pixel of the current frame looks up where it came from: a warp with no holes.
 */
import { flowFromPyramids, flowPyramid, type FlowOptions, type FlowPyramid } from '../../image/flow.js';
import { toGray255 } from '../../image/image-ops.js';
import type { Tensor } from '../../tensor.js';
import { components, type Mask } from './mask.js';

/**
 * `mask` (of the previous frame) warped by `flow` [2,H,W] with current(x, y) ≈ previous(x + dx, y + dy): the
 * previous mask sampled bilinearly at (x + dx, y + dy); outside the frame counts as 0.
 */
export function warpMask(mask: Mask, flow: Tensor): Mask {
  const { width: w, height: h } = mask;
  if (flow.dims[1] !== h || flow.dims[2] !== w) throw new Error(`warpMask: flow [${flow.dims.join(', ')}] does not fit a ${w}×${h} mask`);
  const plane = w * h;
  const out = new Float32Array(plane);
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : mask.data[y * w + x]);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const sx = x + flow.data[i], sy = y + flow.data[plane + i];
      const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
      out[i] = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
    }
  }
  return { data: out, width: w, height: h };
}

/** Frame-to-frame backward flow of a stream of frames, each frame's pyramid computed once. */
export class FlowTracker {
  private previous: FlowPyramid | undefined;

  constructor(private readonly options: FlowOptions = {}) {}

  /** The flow from `frame` [3,H,W] back to the frame given before it (undefined for the first). */
  next(frame: Tensor): Tensor | undefined {
    const pyramid = flowPyramid(toGray255(frame), this.options);
    const flow = this.previous && flowFromPyramids(pyramid, this.previous, this.options);
    this.previous = pyramid;
    return flow;
  }
}

/**
 * Mean colour difference per pixel (levels) between `previous` at the region's pixels and `current` at the same
 * pixels moved by (dx, dy) — how well a rigid move explains the region; Infinity when it leaves the frame.
 */
function moveCost(previous: Tensor, current: Tensor, region: readonly number[], dx: number, dy: number): number {
  const [, h, w] = previous.dims;
  const plane = w * h;
  let cost = 0;
  for (const i of region) {
    const x = (i % w) + dx, y = Math.floor(i / w) + dy;
    if (x < 0 || y < 0 || x >= w || y >= h) return Infinity;
    const j = y * w + x;
    for (let c = 0; c < 3; c++) cost += Math.abs(previous.data[c * plane + i] - current.data[c * plane + j]);
  }
  return (cost * 127.5) / region.length;
}

/**
 * The previous frame's mask carried into the current frame, region by region: each connected region moves as a
 * whole by the whole-pixel shift that best matches its pixels between the two frames (searched around the flow's
 * mean motion of the region), or by the flow pixel by pixel where that matches better (a turning or growing object).
 * The rigid move corrects the flow's lag at the edges of flat objects (a uniform patch has no texture inside for the
 * flow to follow), which a chain of per-pixel warps accumulates frame after frame.
 */
export function carryMask(mask: Mask, flow: Tensor, previous: Tensor, current: Tensor, search = 2): Mask {
  const { width: w, height: h } = mask;
  const plane = w * h;
  const warped = warpMask(mask, flow);
  const out = new Float32Array(plane);
  for (const region of components(mask)) {
    // The region's motion by the flow (current → previous, so the forward move is minus it), on the current grid.
    let mx = 0, my = 0;
    for (const i of region) {
      mx -= flow.data[i];
      my -= flow.data[plane + i];
    }
    const cx = Math.round(mx / region.length), cy = Math.round(my / region.length);
    let best = { cost: Infinity, dx: 0, dy: 0 };
    for (let dy = cy - search; dy <= cy + search; dy++) {
      for (let dx = cx - search; dx <= cx + search; dx++) {
        const cost = moveCost(previous, current, region, dx, dy);
        if (cost < best.cost) best = { cost, dx, dy };
      }
    }
    // The per-pixel warp's own cost: how well the flow explains the same pixels.
    let flowCost = 0;
    for (const i of region) {
      const x = (i % w) - Math.round(flow.data[i]), y = Math.floor(i / w) - Math.round(flow.data[plane + i]);
      const j = Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x));
      for (let c = 0; c < 3; c++) flowCost += Math.abs(previous.data[c * plane + i] - current.data[c * plane + j]);
    }
    flowCost = (flowCost * 127.5) / region.length;
    if (best.cost <= flowCost) {
      for (const i of region) {
        const x = (i % w) + best.dx, y = Math.floor(i / w) + best.dy;
        if (x >= 0 && y >= 0 && x < w && y < h) out[y * w + x] = 1;
      }
    } else {
      // The warp's pixels near this region (its box grown by the motion and the search).
      const reach = Math.max(Math.abs(cx), Math.abs(cy)) + search + 1;
      let x0 = w, y0 = h, x1 = 0, y1 = 0;
      for (const i of region) {
        const x = i % w, y = Math.floor(i / w);
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
      for (let y = Math.max(0, y0 - reach); y <= Math.min(h - 1, y1 + reach); y++) {
        for (let x = Math.max(0, x0 - reach); x <= Math.min(w - 1, x1 + reach); x++) if (warped.data[y * w + x] >= 0.5) out[y * w + x] = 1;
      }
    }
  }
  return { data: out, width: w, height: h };
}
