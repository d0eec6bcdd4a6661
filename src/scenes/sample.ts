/** Scenes drawn from a seed: every parameter comes from one PCG32 stream, so a seed is the whole scene. */
import { Random } from '../random.js';
import {
  SHAPE_KINDS, type Appearance, type Background, type Rgb, type Scene, type SceneObject, type ShapeKind, type Texture,
} from './types.js';

export interface SceneOptions {
  width?: number;
  height?: number;
  frames?: number;
  /** Force a number of objects (1–3); default random. */
  objects?: number;
  /** Force the background kind; default random. */
  background?: Background['kind'];
  /** Force a camera pan (true) or none (false); default random (1 in 4 scenes). */
  pan?: boolean;
}

export const SCENE_DEFAULTS = { width: 64, height: 64, frames: 8 } as const;

const pick = <T>(rng: Random, xs: readonly T[]): T => xs[Math.floor(rng.uniform() * xs.length)];
const range = (rng: Random, a: number, b: number): number => a + (b - a) * rng.uniform();

/** A saturated colour from hue/saturation/value ranges. */
export function randomColor(rng: Random, sat: [number, number] = [0.5, 1], val: [number, number] = [0.45, 1]): Rgb {
  return hsv(rng.uniform(), range(rng, ...sat), range(rng, ...val));
}

export function hsv(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  return ([[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]] as const)[i];
}

function luma(c: Rgb): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

/** A colour whose luma or hue differs clearly from `avoid`, so an object never blends into what is behind it. */
export function contrastingColor(rng: Random, avoid: Rgb): Rgb {
  for (let i = 0; i < 20; i++) {
    const c = randomColor(rng);
    const d = Math.hypot(c[0] - avoid[0], c[1] - avoid[1], c[2] - avoid[2]);
    if (d > 0.45 || Math.abs(luma(c) - luma(avoid)) > 0.3) return c;
  }
  return luma(avoid) > 0.5 ? [0.1, 0.1, 0.5] : [1, 0.9, 0.2];
}

export function randomTexture(rng: Random, color: Rgb): Texture {
  const kind = pick(rng, ['flat', 'flat', 'stripes', 'checker', 'dots'] as const);
  const color2: Rgb = luma(color) > 0.5 ? color.map((v) => v * 0.35) as unknown as Rgb : color.map((v) => 0.5 + 0.5 * v) as unknown as Rgb;
  return { kind, color2, period: range(rng, 0.6, 1.2), angle: range(rng, 0, Math.PI) };
}

export function randomAppearance(rng: Random, avoid: Rgb, shape?: ShapeKind): Appearance {
  const color = contrastingColor(rng, avoid);
  return {
    shape: shape ?? pick(rng, SHAPE_KINDS),
    color,
    texture: randomTexture(rng, color),
    blob: [2, 3, 4].map(() => ({ amp: range(rng, 0.05, 0.22), phase: range(rng, 0, 2 * Math.PI) })),
  };
}

function randomBackground(rng: Random, kind?: Background['kind']): Background {
  const k = kind ?? pick(rng, ['flat', 'gradient', 'textured'] as const);
  const color = randomColor(rng, [0, 0.6], [0.15, 0.95]);
  const color2 = randomColor(rng, [0, 0.6], [0.15, 0.95]);
  const waves = Array.from({ length: 3 }, () => ({ freq: range(rng, 0.02, 0.09), angle: range(rng, 0, Math.PI), phase: range(rng, 0, 2 * Math.PI) }));
  return { kind: k, color, color2, angle: range(rng, 0, 2 * Math.PI), waves };
}

/** One object with a random path; `index` spreads depths so draw order is fixed. */
export function randomObject(rng: Random, id: number, scene: { width: number; height: number; frames: number }, bg: Rgb): SceneObject {
  const { width: w, height: h } = scene;
  const m = Math.min(w, h);
  const radius = range(rng, 0.12, 0.22) * m;
  const speed = range(rng, 0.5, 4) * (m / 64);
  const dir = range(rng, 0, 2 * Math.PI);
  const style = pick(rng, ['translate', 'translate', 'bounce', 'rotate', 'scale'] as const);
  const bounce = style === 'bounce' || rng.uniform() < 0.3;
  const stillish = style === 'rotate' || style === 'scale';
  return {
    id,
    appearance: randomAppearance(rng, bg),
    radius,
    motion: {
      x0: range(rng, 0.2, 0.8) * w,
      y0: range(rng, 0.2, 0.8) * h,
      vx: Math.cos(dir) * speed * (stillish ? 0.3 : 1),
      vy: Math.sin(dir) * speed * (stillish ? 0.3 : 1),
      bounce,
      angle0: range(rng, 0, 2 * Math.PI),
      spin: style === 'rotate' ? range(rng, 0.15, 0.4) * (rng.uniform() < 0.5 ? -1 : 1) : range(rng, -0.05, 0.05),
      scale0: 1,
      grow: style === 'scale' ? range(rng, -0.06, 0.1) : 0,
    },
    depth: id,
  };
}

/** The scene of `seed`. The same seed and options always give the same scene. */
export function sampleScene(seed: number, opts: SceneOptions = {}): Scene {
  const rng = new Random(seed);
  const width = opts.width ?? SCENE_DEFAULTS.width;
  const height = opts.height ?? SCENE_DEFAULTS.height;
  const frames = opts.frames ?? SCENE_DEFAULTS.frames;
  const background = randomBackground(rng, opts.background);
  const n = opts.objects ?? pick(rng, [1, 2, 2, 3]);
  const objects: SceneObject[] = [];
  for (let i = 0; i < n; i++) objects.push(randomObject(rng, i, { width, height, frames }, background.color));
  // Occlusion: one scene in four gets a slow front object placed across another object's path.
  if (n >= 2 && rng.uniform() < 0.25) {
    const mover = objects[0].motion;
    const t = range(rng, 0.3, 0.7) * frames;
    const front = objects[n - 1];
    objects[n - 1] = { ...front, motion: { ...front.motion, x0: mover.x0 + mover.vx * t, y0: mover.y0 + mover.vy * t, vx: 0, vy: 0, bounce: false } };
  }
  const pan = opts.pan ?? rng.uniform() < 0.25;
  const panSpeed = range(rng, 0.5, 2.5) * (Math.min(width, height) / 64);
  const panDir = range(rng, 0, 2 * Math.PI);
  const camera = pan ? { vx: Math.cos(panDir) * panSpeed, vy: Math.sin(panDir) * panSpeed } : { vx: 0, vy: 0 };
  return { seed, width, height, frames, background, objects, camera };
}
