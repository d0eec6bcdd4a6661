/**
 * Seeds of held-out scenes. Training clips use seeds below HELD_OUT_SEED_BASE (scripts/write-scenes.ts refuses
 * others), benchmarks and tests use seeds from it on, so no evaluated scene was ever seen in training.
 */
import type { SceneOptions } from './sample.js';

export const HELD_OUT_SEED_BASE = 1_000_000;

/** The i-th held-out scene: cycles through single-object flat scenes, camera pans and free random scenes. */
export function heldOutScene(i: number): { seed: number; options: SceneOptions; label: string } {
  const seed = HELD_OUT_SEED_BASE + i;
  switch (i % 4) {
    case 0: return { seed, options: { objects: 1, background: 'flat', pan: false }, label: 'single-flat' };
    case 1: return { seed, options: { pan: true }, label: 'camera-pan' };
    default: return { seed, options: {}, label: 'random' };
  }
}
