/**
 * Synthetic frames for the metric tests: a smooth band-limited texture (a sum of random sinusoids) that can be
 * evaluated exactly at any real position, so shifted and rotated copies need no resampling.
 */
import { Random } from '../../src/random.js';
import type { Tensor } from '../../src/tensor.js';

export type Texture = (x: number, y: number) => number;

/** A texture with values in about [-0.9, 0.9], wavelengths between minWave and maxWave pixels. */
export function makeTexture(seed: number, waves = 24, minWave = 7, maxWave = 40): Texture {
  const rng = new Random(seed);
  const kx: number[] = [];
  const ky: number[] = [];
  const phase: number[] = [];
  for (let i = 0; i < waves; i++) {
    const angle = rng.uniform() * 2 * Math.PI;
    const k = (2 * Math.PI) / (minWave + rng.uniform() * (maxWave - minWave));
    kx.push(k * Math.cos(angle));
    ky.push(k * Math.sin(angle));
    phase.push(rng.uniform() * 2 * Math.PI);
  }
  const amp = 0.9 / Math.sqrt(waves / 2) / 2;
  return (x, y) => {
    let s = 0;
    for (let i = 0; i < waves; i++) s += Math.sin(kx[i] * x + ky[i] * y + phase[i]);
    return Math.max(-1, Math.min(1, amp * s));
  };
}

/** A [3,H,W] frame whose pixel (x, y) shows channel c's texture at `warp(x, y)`. */
export function renderFrame(textures: readonly Texture[], height: number, width: number,
  warp: (x: number, y: number) => [number, number] = (x, y) => [x, y]): Tensor {
  const plane = height * width;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [u, v] = warp(x, y);
      for (let c = 0; c < 3; c++) data[c * plane + y * width + x] = textures[c % textures.length](u, v);
    }
  }
  return { data, dims: [3, height, width] };
}

/** Frame t of a video whose content moves by (vx, vy) pixels per frame. */
export function movingVideo(textures: readonly Texture[], frames: number, height: number, width: number,
  vx: number, vy: number): Tensor[] {
  return Array.from({ length: frames }, (_, t) => renderFrame(textures, height, width, (x, y) => [x - vx * t, y - vy * t]));
}
