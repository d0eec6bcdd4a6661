/**
 * Synthetic scenes: a scene is a parameter set (background, objects, their motion, a camera pan), so the same motion
 * can be rendered again with an edited appearance. That gives exact ground truth for first-frame edits.
 * Coordinates are pixels of the frame; time is the frame index.
 */
export type ShapeKind = 'disc' | 'square' | 'triangle' | 'star' | 'blob';
export const SHAPE_KINDS: readonly ShapeKind[] = ['disc', 'square', 'triangle', 'star', 'blob'];

export type Rgb = readonly [number, number, number];

/** Surface pattern in the object's own (rotating, scaling) coordinates, so rotation is visible even on a disc. */
export interface Texture {
  readonly kind: 'flat' | 'stripes' | 'checker' | 'dots';
  /** Second colour of the pattern (unused when flat). */
  readonly color2: Rgb;
  /** Pattern period in units of the object's radius. */
  readonly period: number;
  readonly angle: number;
}

export interface Appearance {
  readonly shape: ShapeKind;
  readonly color: Rgb;
  readonly texture: Texture;
  /** Harmonic amplitudes and phases of a blob's outline (k = 2, 3, 4). */
  readonly blob: readonly { readonly amp: number; readonly phase: number }[];
}

/** Motion of an object's centre, angle and size over time t (frames). */
export interface Motion {
  readonly x0: number;
  readonly y0: number;
  /** Velocity in px/frame. */
  readonly vx: number;
  readonly vy: number;
  /** Reflect off the frame's edges instead of leaving it. */
  readonly bounce: boolean;
  readonly angle0: number;
  /** Angular velocity in radians/frame. */
  readonly spin: number;
  /** Radius multiplier: scale0 · (1 + grow·t), clamped to [0.3, 3]. */
  readonly scale0: number;
  readonly grow: number;
}

export interface SceneObject {
  readonly id: number;
  readonly appearance: Appearance;
  /** Base radius in px. */
  readonly radius: number;
  readonly motion: Motion;
  /** Larger draws in front. */
  readonly depth: number;
  /** Another object whose motion this one follows, offset by (dx, dy) ("riding along"). */
  readonly ride?: { readonly with: number; readonly dx: number; readonly dy: number };
}

export interface Background {
  readonly kind: 'flat' | 'gradient' | 'textured';
  readonly color: Rgb;
  readonly color2: Rgb;
  readonly angle: number;
  /** Textured: sinusoid waves (frequency in cycles/px, direction, phase), summed. */
  readonly waves: readonly { readonly freq: number; readonly angle: number; readonly phase: number }[];
}

export interface Scene {
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly background: Background;
  readonly objects: readonly SceneObject[];
  /** Camera pan in px/frame: everything (background and objects) shifts by −camera·t on screen. */
  readonly camera: { readonly vx: number; readonly vy: number };
}

export type SceneEdit =
  | { readonly kind: 'recolor'; readonly object: number; readonly color: Rgb; readonly texture?: Texture }
  | { readonly kind: 'replace-shape'; readonly object: number; readonly shape: ShapeKind }
  | { readonly kind: 'add'; readonly object: SceneObject }
  | { readonly kind: 'remove'; readonly object: number };

export type EditKind = SceneEdit['kind'];
export const EDIT_KINDS: readonly EditKind[] = ['recolor', 'replace-shape', 'add', 'remove'];

/** A rendered clip: frames [F, H, W, 3] uint8 RGB, and per object its visible coverage [F, H, W] (0..255). */
export interface RenderedClip {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly rgb: Uint8Array;
  /** Visible coverage of each object by id (hidden parts behind nearer objects excluded). */
  readonly masks: ReadonlyMap<number, Uint8Array>;
}
