/** Synthetic scenes: determinism from the seed, edits that keep the motion, masks, held-out seeds. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EDIT_KINDS, HELD_OUT_SEED_BASE, editedObject, editedRegion, heldOutScene, objectPose, renderScene, sampleEdit, sampleScene,
} from '../../src/scenes/index.js';

describe('scenes', () => {
  test('a seed is the whole scene: same seed, same pixels; another seed, other pixels', () => {
    const a = renderScene(sampleScene(7));
    const b = renderScene(sampleScene(7));
    const c = renderScene(sampleScene(8));
    assert.deepEqual(a.rgb, b.rgb);
    assert.notDeepEqual(a.rgb, c.rgb);
    assert.equal(a.rgb.length, 8 * 64 * 64 * 3);
  });

  test('objects move between frames', () => {
    const scene = sampleScene(3, { objects: 1, background: 'flat', pan: false });
    const clip = renderScene(scene);
    const plane = 64 * 64 * 3;
    let diff = 0;
    for (let i = 0; i < plane; i++) diff += Math.abs(clip.rgb[i] - clip.rgb[7 * plane + i]);
    assert.ok(diff > 0, 'first and last frames differ');
  });

  for (const kind of EDIT_KINDS) {
    test(`${kind}: pixels away from the edited object stay exactly as in the source`, () => {
      for (let s = 0; s < 3; s++) {
        const scene = sampleScene(100 + s);
        const edit = sampleEdit(scene, kind, s);
        const source = renderScene(scene);
        const edited = renderScene(scene, edit);
        const region = editedRegion(source, edited, editedObject(edit));
        let inside = 0, changedOutside = 0, changedInside = 0;
        // Anti-aliasing spreads an edge over a pixel; a riding object may be covered: count changes.
        for (let i = 0; i < region.data.length; i++) {
          const moved = [0, 1, 2].some((c) => source.rgb[i * 3 + c] !== edited.rgb[i * 3 + c]);
          if (region.data[i] > 0) {
            inside++;
            if (moved) changedInside++;
          } else if (moved) changedOutside++;
        }
        assert.equal(changedOutside, 0, `seed ${100 + s}: ${changedOutside} pixels changed outside the edited object`);
        assert.ok(inside > 0 && changedInside > 0, `seed ${100 + s}: the edit changed nothing`);
      }
    });
  }

  test('masks cover the object where it is drawn, and riding objects follow their carrier', () => {
    const scene = sampleScene(11, { objects: 2 });
    const clip = renderScene(scene);
    for (const o of scene.objects) assert.ok(clip.masks.get(o.id)!.some((v) => v === 255), `object ${o.id} is visible`);
    const carrier = scene.objects[0];
    const rider = { ...carrier, id: 9, radius: 3, depth: 10, ride: { with: carrier.id, dx: 2, dy: -1 } };
    for (const t of [0, 4, 7]) {
      const a = objectPose(scene, carrier, t), b = objectPose({ ...scene, objects: [...scene.objects, rider] }, rider, t);
      assert.ok(Math.abs(b.x - a.x - 2) < 1e-9 && Math.abs(b.y - a.y + 1) < 1e-9);
    }
  });

  test('held-out scenes use seeds no training clip uses, and include flat single-object scenes and pans', () => {
    const s = [0, 1, 2, 3].map(heldOutScene);
    assert.ok(s.every((x) => x.seed >= HELD_OUT_SEED_BASE));
    const flat = sampleScene(s[0].seed, s[0].options);
    assert.equal(flat.objects.length, 1);
    assert.equal(flat.background.kind, 'flat');
    const pan = sampleScene(s[1].seed, s[1].options);
    assert.ok(Math.hypot(pan.camera.vx, pan.camera.vy) > 0);
  });
});
