/**
 * Renders a scene (optionally edited) to RGB frames and per-object visible masks. Pure arithmetic on the scene's
 * parameters: the same scene renders bit for bit the same, and an edited scene keeps every unedited pixel's motion.
 * Anti-aliased by 3×3 supersampling, so edges move smoothly at sub-pixel speeds.
 */
import { applyEdit } from './edits.js';
import type { Appearance, Background, RenderedClip, Rgb, Scene, SceneEdit, SceneObject } from './types.js';

const SUB = 3;

/** Where an object is at frame t in screen pixels (camera pan applied), its angle and its radius. */
export function objectPose(scene: Scene, obj: SceneObject, t: number): { x: number; y: number; angle: number; radius: number } {
  const base = obj.ride ? scene.objects.find((o) => o.id === obj.ride?.with) : undefined;
  const m = base ? base.motion : obj.motion;
  let x = m.x0 + m.vx * t;
  let y = m.y0 + m.vy * t;
  if (m.bounce) {
    const r = (base ?? obj).radius;
    x = reflect(x, r, scene.width - r);
    y = reflect(y, r, scene.height - r);
  }
  if (base && obj.ride) {
    x += obj.ride.dx;
    y += obj.ride.dy;
  }
  const scale = Math.min(3, Math.max(0.3, obj.motion.scale0 * (1 + obj.motion.grow * t)));
  return {
    x: x - scene.camera.vx * t,
    y: y - scene.camera.vy * t,
    angle: obj.motion.angle0 + obj.motion.spin * t,
    radius: obj.radius * scale,
  };
}

/** Position bouncing between lo and hi (a triangle wave). */
function reflect(v: number, lo: number, hi: number): number {
  const span = hi - lo;
  if (span <= 0) return (lo + hi) / 2;
  const u = ((v - lo) % (2 * span) + 2 * span) % (2 * span);
  return lo + (u <= span ? u : 2 * span - u);
}

const STAR = Array.from({ length: 10 }, (_, i) => {
  const a = (i * Math.PI) / 5 - Math.PI / 2;
  const r = i % 2 === 0 ? 1 : 0.45;
  return [r * Math.cos(a), r * Math.sin(a)] as const;
});
const regular = (n: number, r: number) => Array.from({ length: n }, (_, i) => {
  const a = (2 * i * Math.PI) / n - Math.PI / 2;
  return [r * Math.cos(a), r * Math.sin(a)] as const;
});
const TRIANGLE = regular(3, 1.15);
const SQUARE = regular(4, 1);

function insidePolygon(px: number, py: number, poly: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if ((yi > py) !== (yj > py) && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether local point (u, v) — in units of the radius, object unrotated — lies inside the shape. */
export function insideShape(a: Appearance, u: number, v: number): boolean {
  switch (a.shape) {
    case 'disc':
      return u * u + v * v <= 1;
    case 'square':
      return insidePolygon(u, v, SQUARE);
    case 'triangle':
      return insidePolygon(u, v, TRIANGLE);
    case 'star':
      return insidePolygon(u, v, STAR);
    case 'blob': {
      const theta = Math.atan2(v, u);
      let r = 1;
      a.blob.forEach((h, i) => { r += h.amp * Math.cos((i + 2) * theta + h.phase); });
      return u * u + v * v <= r * r;
    }
  }
}

function surface(a: Appearance, u: number, v: number): Rgb {
  const tx = a.texture;
  if (tx.kind === 'flat') return a.color;
  const c = Math.cos(tx.angle), s = Math.sin(tx.angle);
  const p = (u * c + v * s) / tx.period;
  const q = (-u * s + v * c) / tx.period;
  let second: boolean;
  if (tx.kind === 'stripes') second = Math.floor(p * 2) % 2 !== 0;
  else if (tx.kind === 'checker') second = (Math.floor(p * 2) + Math.floor(q * 2)) % 2 !== 0;
  else {
    const fp = p * 2 - Math.floor(p * 2) - 0.5, fq = q * 2 - Math.floor(q * 2) - 0.5;
    second = fp * fp + fq * fq < 0.09;
  }
  return second ? tx.color2 : a.color;
}

/** Background colour at world point (wx, wy) (screen point plus camera offset). */
function backgroundAt(bg: Background, wx: number, wy: number, w: number, h: number): Rgb {
  if (bg.kind === 'flat') return bg.color;
  let f: number;
  if (bg.kind === 'gradient') {
    const c = Math.cos(bg.angle), s = Math.sin(bg.angle);
    f = 0.5 + ((wx - w / 2) * c + (wy - h / 2) * s) / (Math.hypot(w, h) * 0.9);
  } else {
    let sum = 0;
    for (const wv of bg.waves) sum += Math.sin(2 * Math.PI * wv.freq * (wx * Math.cos(wv.angle) + wy * Math.sin(wv.angle)) + wv.phase);
    f = 0.5 + sum / 6;
  }
  f = Math.min(1, Math.max(0, f));
  return [bg.color[0] + (bg.color2[0] - bg.color[0]) * f, bg.color[1] + (bg.color2[1] - bg.color[1]) * f, bg.color[2] + (bg.color2[2] - bg.color[2]) * f];
}

/** Renders `scene`, or the scene with `edit` applied (same motion, changed appearance). */
export function renderScene(scene: Scene, edit?: SceneEdit): RenderedClip {
  const s = edit ? applyEdit(scene, edit) : scene;
  const { width: w, height: h, frames } = s;
  const rgb = new Uint8Array(frames * h * w * 3);
  const ordered = [...s.objects].sort((a, b) => a.depth - b.depth); // back to front
  const masks = new Map<number, Uint8Array>(ordered.map((o) => [o.id, new Uint8Array(frames * h * w)]));
  const coverage = new Float64Array(ordered.length);
  for (let t = 0; t < frames; t++) {
    const poses = ordered.map((o) => objectPose(s, o, t));
    const cos = poses.map((p) => Math.cos(-p.angle)), sin = poses.map((p) => Math.sin(-p.angle));
    const camX = s.camera.vx * t, camY = s.camera.vy * t;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let r = 0, g = 0, b = 0;
        coverage.fill(0);
        for (let sy = 0; sy < SUB; sy++) {
          for (let sx = 0; sx < SUB; sx++) {
            const px = x + (sx + 0.5) / SUB, py = y + (sy + 0.5) / SUB;
            let top = -1;
            let col: Rgb = [0, 0, 0];
            for (let k = ordered.length - 1; k >= 0; k--) {
              const p = poses[k];
              const dx = (px - p.x) / p.radius, dy = (py - p.y) / p.radius;
              if (dx * dx + dy * dy > 2.5) continue;
              const u = dx * cos[k] - dy * sin[k], v = dx * sin[k] + dy * cos[k];
              if (insideShape(ordered[k].appearance, u, v)) {
                top = k;
                col = surface(ordered[k].appearance, u, v);
                break;
              }
            }
            if (top < 0) col = backgroundAt(s.background, px + camX, py + camY, w, h);
            else coverage[top]++;
            r += col[0]; g += col[1]; b += col[2];
          }
        }
        const n = SUB * SUB;
        const i = ((t * h + y) * w + x) * 3;
        rgb[i] = to8(r / n); rgb[i + 1] = to8(g / n); rgb[i + 2] = to8(b / n);
        ordered.forEach((o, k) => { masks.get(o.id)![(t * h + y) * w + x] = Math.round((coverage[k] / n) * 255); });
      }
    }
  }
  return { width: w, height: h, frames, rgb, masks };
}

function to8(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v * 255)));
}
