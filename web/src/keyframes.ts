/**
 * The frames being edited: the first frame (where the render starts) and later frames the user edits too
 * (keyframes: "Add keyframe here" on the timeline). The editor shows one at a time; the others keep the user's
 * additions as a transparent PNG (as the draft does), laid back over their source frame when shown again or sent.
 * The strip above the editor switches between them, with each frame's time, and removes a keyframe.
 */
import { $, el, loadImage } from './dom.js';
import type { RegionMark } from './editor.js';

export interface FrameSlot {
  /** Seconds in the source (the frame at or after it, as GET /api/uploads/:id/frame.png?time= gives it). */
  time: number;
  /** What the user added, transparent elsewhere; null: nothing yet. */
  edits: Blob | null;
  /** The region marks drawn on it (the first frame's are sent with the job). */
  marks?: RegionMark[];
}

/** Keyframes a job takes (the server's keyframe_0 … keyframe_15). */
export const MAX_KEYFRAMES = 16;

/** A time as the page sends it: whole milliseconds, never past the frame it names (the frame at or after it). */
export function keyTime(seconds: number): number {
  return Math.floor(seconds * 1000 + 1e-6) / 1000;
}

export class FrameStrip {
  /** [0]: the first frame (the section's start); then the keyframes, by time. */
  slots: FrameSlot[] = [{ time: 0, edits: null }];
  active = 0;
  onSelect: (index: number) => void = () => {};
  onRemove: (index: number) => void = () => {};

  constructor(private readonly frameUrl: (time: number) => string) {}

  get keyframes(): FrameSlot[] {
    return this.slots.slice(1);
  }

  reset(first: FrameSlot, keyframes: FrameSlot[] = []): void {
    this.slots = [first, ...keyframes].map((s) => ({ ...s }));
    this.active = 0;
    this.render();
  }

  /** Adds a keyframe at `time` (or finds the one there); returns its index. */
  add(time: number): number {
    const found = this.slots.findIndex((s) => Math.abs(s.time - time) < 1e-3);
    if (found >= 0) return found;
    const current = this.slots[this.active];
    const added: FrameSlot = { time, edits: null };
    const [first, ...rest] = [...this.slots, added];
    this.slots = [first, ...rest.sort((a, b) => a.time - b.time)];
    this.active = this.slots.indexOf(current);
    this.render();
    return this.slots.indexOf(added);
  }

  remove(index: number): void {
    if (index <= 0) return;
    this.slots.splice(index, 1);
    if (this.active >= index) this.active = Math.max(0, this.active - 1);
    this.render();
  }

  render(): void {
    const strip = $('keyframe-strip');
    strip.hidden = this.slots.length < 2;
    strip.replaceChildren(...this.slots.map((slot, i) => {
      const label = i === 0 ? `First frame · ${slot.time.toFixed(2)} s` : `Keyframe · ${slot.time.toFixed(2)} s`;
      const pick = el('button', { type: 'button', className: 'pick', title: `Edit the ${label.toLowerCase()}`, onclick: () => this.onSelect(i) },
        el('img', { src: this.frameUrl(slot.time), alt: '' }), el('span', { textContent: label }));
      const item = el('div', { className: `key${i === this.active ? ' active' : ''}${slot.edits ? ' edited' : ''}` }, pick);
      item.dataset.time = slot.time.toFixed(3);
      if (i > 0) {
        item.append(el('button', { type: 'button', className: 'remove', textContent: '×', title: `Remove the keyframe at ${slot.time.toFixed(2)} s`,
          onclick: () => this.onRemove(i) }));
      }
      return item;
    }));
  }
}

/** A frame as sent: the source frame with the user's additions over it, at the frame's size (PNG). */
export async function composite(frameUrl: string, edits: Blob | null): Promise<Blob> {
  const source = await loadImage(frameUrl);
  const canvas = document.createElement('canvas');
  canvas.width = source.naturalWidth;
  canvas.height = source.naturalHeight;
  const g = canvas.getContext('2d')!;
  g.drawImage(source, 0, 0);
  if (edits) {
    const url = URL.createObjectURL(edits);
    try {
      g.drawImage(await loadImage(url), 0, 0, canvas.width, canvas.height);
    } finally {
      URL.revokeObjectURL(url);
    }
  }
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('could not encode the frame'))), 'image/png'));
}
