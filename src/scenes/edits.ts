/**
 * Edits of a scene's appearance that keep its motion: the edited scene renders the ground-truth edited video, and its
 * first frame is what a user would paint in an image editor.
 */
import { Random } from '../random.js';
import { contrastingColor, randomAppearance, randomObject, randomTexture } from './sample.js';
import { SHAPE_KINDS, type EditKind, type Scene, type SceneEdit, type SceneObject } from './types.js';

/** The scene with `edit` applied. Throws a RangeError naming a missing object. */
export function applyEdit(scene: Scene, edit: SceneEdit): Scene {
  const find = (id: number): SceneObject => {
    const o = scene.objects.find((x) => x.id === id);
    if (!o) throw new RangeError(`scene ${scene.seed} has no object ${id}`);
    return o;
  };
  switch (edit.kind) {
    case 'recolor': {
      const o = find(edit.object);
      const appearance = { ...o.appearance, color: edit.color, texture: edit.texture ?? o.appearance.texture };
      return { ...scene, objects: scene.objects.map((x) => (x.id === o.id ? { ...o, appearance } : x)) };
    }
    case 'replace-shape': {
      const o = find(edit.object);
      return { ...scene, objects: scene.objects.map((x) => (x.id === o.id ? { ...o, appearance: { ...o.appearance, shape: edit.shape } } : x)) };
    }
    case 'add':
      if (scene.objects.some((x) => x.id === edit.object.id)) throw new RangeError(`scene ${scene.seed} already has object ${edit.object.id}`);
      if (edit.object.ride) find(edit.object.ride.with);
      return { ...scene, objects: [...scene.objects, edit.object] };
    case 'remove': {
      find(edit.object);
      // Objects riding along with the removed one keep its path (they stay; only the carrier disappears).
      const carrier = find(edit.object);
      const objects = scene.objects.filter((x) => x.id !== edit.object).map((x) => (x.ride?.with === edit.object
        ? {
          ...x, ride: undefined,
          motion: {
            ...carrier.motion, angle0: x.motion.angle0, spin: x.motion.spin,
            x0: carrier.motion.x0 + x.ride.dx, y0: carrier.motion.y0 + x.ride.dy,
          },
        }
        : x));
      return { ...scene, objects };
    }
  }
}

/** A random edit of `kind` for `scene`, drawn from `seed`. The edited object is the one that moves most. */
export function sampleEdit(scene: Scene, kind: EditKind, seed: number): SceneEdit {
  const rng = new Random(seed);
  const target = [...scene.objects].sort((a, b) => Math.hypot(b.motion.vx, b.motion.vy) - Math.hypot(a.motion.vx, a.motion.vy))[0];
  switch (kind) {
    case 'recolor': {
      const color = contrastingColor(rng, target.appearance.color);
      return { kind, object: target.id, color, texture: { ...target.appearance.texture, color2: randomTexture(rng, color).color2 } };
    }
    case 'replace-shape': {
      const others = SHAPE_KINDS.filter((s) => s !== target.appearance.shape);
      return { kind, object: target.id, shape: others[Math.floor(rng.uniform() * others.length)] };
    }
    case 'remove':
      return { kind, object: target.id };
    case 'add': {
      const id = Math.max(...scene.objects.map((o) => o.id)) + 1;
      const fresh = randomObject(rng, id, scene, scene.background.color);
      const depth = Math.max(...scene.objects.map((o) => o.depth)) + 1;
      if (rng.uniform() < 0.5) {
        // Riding along: a small object stuck to the moving target, in front of it.
        const r = target.radius * 0.45;
        const appearance = randomAppearance(rng, target.appearance.color);
        return { kind, object: { ...fresh, radius: r, depth, appearance, ride: { with: target.id, dx: 0, dy: 0 } } };
      }
      return { kind, object: { ...fresh, depth } };
    }
  }
}

/** The id of the object an edit changes (for inside/outside scores). */
export function editedObject(edit: SceneEdit): number {
  return edit.kind === 'add' ? edit.object.id : edit.object;
}
