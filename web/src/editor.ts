/**
 * The first-frame editor on Konva. The source frame sits alone on the bottom layer and is never changed; every edit
 * is a node on the edit layer above it, in the order made: brush strokes, fills, inserted images and text (layers
 * that move, scale and rotate with a transformer). The eraser is a stroke that cuts through everything below it on
 * the edit layer, so what shows through is the source's own pixels. Undo/redo replays those node changes.
 * Above the edits, the marks layer holds the region marks (not part of the frame): strokes that add to the region the
 * edit changes, or protect an area so it stays exactly as in the video; they are sent beside the frame as masks.
 */
import Konva from 'konva';
import { floodFill, hexToRgb } from './fill.js';
import { tintMask } from './marks.js';

export type Tool = 'move' | 'brush' | 'eraser' | 'fill' | 'picker' | 'text' | 'mark-add' | 'mark-keep';

/**
 * A region mark that adds to the edited region or protects an area: a stroke on the frame (frame pixels), or a whole
 * mask image brought back from a job (white where marked, the frame's size: Edit again).
 */
export interface RegionMark {
  kind: 'add' | 'keep';
  width: number;
  points: number[];
  image?: Blob;
}

/** How marks show: the region overlay's magenta for "add", a blue for "protect". */
const MARK_COLOURS = { add: '#ff00c8', keep: '#1e90ff' } as const;

interface Command {
  undo(): void;
  redo(): void;
}

type Attrs = { x: number; y: number; scaleX: number; scaleY: number; rotation: number };

export class FrameEditor {
  readonly width: number;
  readonly height: number;
  tool: Tool = 'brush';
  color = '#e0301e';
  size = 12;
  recolour = false;
  text = 'Hello';
  zoom = 1;
  onChange: () => void = () => {};
  /** The frame's content changed (a stroke, a layer, undo/redo): not a zoom or a selection. */
  onEdit: () => void = () => {};
  onColorPicked: (hex: string) => void = () => {};

  private readonly stage: Konva.Stage;
  private readonly editLayer = new Konva.Layer();
  private readonly markLayer = new Konva.Layer({ listening: false, opacity: 0.55 });
  private readonly uiLayer = new Konva.Layer();
  private readonly transformer = new Konva.Transformer({
    rotateEnabled: true, keepRatio: true, anchorSize: 10, borderStroke: '#6d5dfc', anchorStroke: '#6d5dfc',
    enabledAnchors: ['top-left', 'top-right', 'bottom-left', 'bottom-right', 'middle-left', 'middle-right', 'top-center', 'bottom-center'],
  });
  private readonly done: Command[] = [];
  private undone: Command[] = [];
  private drawing: Konva.Line | null = null;
  private before: Attrs | null = null;
  private suspended = false;
  private readonly base: Konva.Layer;

  constructor(private readonly host: HTMLDivElement, source: HTMLImageElement) {
    this.width = source.naturalWidth;
    this.height = source.naturalHeight;
    host.replaceChildren();
    this.stage = new Konva.Stage({ container: host, width: this.width, height: this.height });
    const base = new Konva.Layer({ listening: false });
    this.base = base;
    base.add(new Konva.Image({ image: source, x: 0, y: 0, width: this.width, height: this.height }));
    this.uiLayer.add(this.transformer);
    this.stage.add(base, this.editLayer, this.markLayer, this.uiLayer);
    this.stage.on('pointerdown', (e) => this.down(e));
    this.stage.on('pointermove', () => this.move());
    this.stage.on('pointerup pointerleave', () => this.up());
  }

  /**
   * While suspended (a two-finger pinch), pointers draw nothing and the stroke in progress is dropped: the first
   * finger of a pinch must not leave a line.
   */
  suspend(on: boolean): void {
    this.suspended = on;
    if (on && this.drawing) {
      this.drawing.remove();
      this.drawing = null;
      this.editLayer.batchDraw();
      this.markLayer.batchDraw();
    }
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  get selected(): Konva.Node | undefined {
    return this.transformer.nodes()[0];
  }

  setTool(tool: Tool): void {
    this.tool = tool;
    if (tool !== 'move') this.select(undefined);
    for (const node of this.objects()) node.draggable(tool === 'move');
    this.host.dataset.tool = tool;
  }

  private objects(): Konva.Node[] {
    return this.editLayer.getChildren((n) => n.hasName('object'));
  }

  private point(): { x: number; y: number } {
    return this.stage.getRelativePointerPosition() ?? { x: 0, y: 0 };
  }

  private down(e: Konva.KonvaEventObject<PointerEvent>): void {
    if (this.suspended) return;
    const p = this.point();
    switch (this.tool) {
      case 'move': {
        const target = e.target;
        const object = target === this.stage ? undefined : target.findAncestor('.object', true) ?? (target.hasName('object') ? target : undefined);
        if (!object && target.getParent()?.getClassName() !== 'Transformer') this.select(undefined);
        else if (object) this.select(object);
        break;
      }
      case 'brush':
      case 'eraser':
        this.drawing = new Konva.Line({
          points: [p.x, p.y, p.x + 0.01, p.y], stroke: this.tool === 'eraser' ? '#000' : this.color, strokeWidth: this.size,
          lineCap: 'round', lineJoin: 'round', tension: 0.3, listening: false,
          globalCompositeOperation: this.tool === 'eraser' ? 'destination-out' : 'source-over',
        });
        this.editLayer.add(this.drawing);
        break;
      case 'mark-add':
      case 'mark-keep': {
        const kind = this.tool === 'mark-add' ? 'add' : 'keep';
        this.drawing = new Konva.Line({
          points: [p.x, p.y, p.x + 0.01, p.y], stroke: MARK_COLOURS[kind], strokeWidth: this.size, name: kind,
          lineCap: 'round', lineJoin: 'round', listening: false,
        });
        this.markLayer.add(this.drawing);
        break;
      }
      case 'fill':
        this.fill(p);
        break;
      case 'picker':
        this.pick(p);
        break;
      case 'text': {
        const node = new Konva.Text({ x: p.x, y: p.y, text: this.text || 'Text', fontSize: Math.max(12, this.size * 3),
          fontFamily: 'system-ui, sans-serif', fontStyle: 'bold', fill: this.color, name: 'object' });
        this.addNode(node);
        this.setTool('move');
        this.select(node);
        this.onChange();
        break;
      }
    }
  }

  private move(): void {
    if (!this.drawing) return;
    const p = this.point();
    this.drawing.points(this.drawing.points().concat([p.x, p.y]));
    this.drawing.getLayer()?.batchDraw();
  }

  private up(): void {
    const line = this.drawing;
    if (!line) return;
    this.drawing = null;
    const layer = line.getLayer() ?? this.editLayer;
    this.push({
      undo: () => {
        line.remove();
        layer.batchDraw();
      },
      redo: () => layer.add(line),
    });
  }

  /** The region marks, in the order drawn. */
  marks(): RegionMark[] {
    return this.markLayer.getChildren().map((n) => {
      const kind = n.hasName('add') ? 'add' : 'keep';
      const image = (n as Konva.Node).getAttr('markImage') as Blob | undefined;
      if (image) return { kind, width: 0, points: [], image };
      const line = n as Konva.Line;
      return { kind, width: line.strokeWidth(), points: [...line.points()] };
    });
  }

  /** Marks kept from before (the frame shown again, a draft, a job's masks): not an edit to undo. */
  async setMarks(marks: readonly RegionMark[]): Promise<void> {
    const nodes = await Promise.all(marks.map(async (m) => m.image
      ? new Konva.Image({ image: await tint(m.image, MARK_COLOURS[m.kind], this.width, this.height), x: 0, y: 0, width: this.width, height: this.height,
        name: m.kind, listening: false, markImage: m.image })
      : new Konva.Line({
        points: m.points, stroke: MARK_COLOURS[m.kind], strokeWidth: m.width, name: m.kind, lineCap: 'round', lineJoin: 'round', listening: false,
      })));
    this.markLayer.destroyChildren();
    for (const n of nodes) this.markLayer.add(n);
    this.markLayer.batchDraw();
  }

  /** Adds a node as an undoable step. */
  private addNode(node: Konva.Shape | Konva.Group): void {
    this.editLayer.add(node);
    if (node.hasName('object')) this.watch(node);
    this.push({
      undo: () => {
        if (this.selected === node) this.select(undefined);
        node.remove();
      },
      redo: () => this.editLayer.add(node),
    });
  }

  /** Drags and transforms of a layer become undoable steps. */
  private watch(node: Konva.Node): void {
    const attrs = (): Attrs => ({ x: node.x(), y: node.y(), scaleX: node.scaleX(), scaleY: node.scaleY(), rotation: node.rotation() });
    node.on('dragstart transformstart', () => (this.before = attrs()));
    node.on('dragend transformend', () => {
      const from = this.before;
      const to = attrs();
      this.before = null;
      if (!from) return;
      this.push({ undo: () => node.setAttrs(from), redo: () => node.setAttrs(to) }, false);
    });
  }

  private push(command: Command, redraw = true): void {
    this.done.push(command);
    this.undone = [];
    if (redraw) this.editLayer.batchDraw();
    this.onChange();
    this.onEdit();
  }

  undo(): void {
    const c = this.done.pop();
    if (!c) return;
    c.undo();
    this.undone.push(c);
    this.afterHistory();
  }

  redo(): void {
    const c = this.undone.pop();
    if (!c) return;
    c.redo();
    this.done.push(c);
    this.afterHistory();
  }

  private afterHistory(): void {
    this.transformer.forceUpdate();
    this.editLayer.batchDraw();
    this.markLayer.batchDraw();
    this.uiLayer.batchDraw();
    this.onChange();
    this.onEdit();
  }

  select(node: Konva.Node | undefined): void {
    this.transformer.nodes(node ? [node] : []);
    this.uiLayer.batchDraw();
    this.onChange();
  }

  deleteSelected(): void {
    const node = this.selected;
    if (!node) return;
    const parent = this.editLayer;
    const index = node.zIndex();
    this.select(undefined);
    node.remove();
    this.push({
      undo: () => {
        parent.add(node as Konva.Shape);
        node.zIndex(index);
      },
      redo: () => node.remove(),
    });
  }

  /** An image (file or clipboard) as a layer: centred, at most half the frame, ready to move/scale/rotate. */
  insertImage(image: HTMLImageElement): void {
    const scale = Math.min(1, (this.width * 0.5) / image.naturalWidth, (this.height * 0.5) / image.naturalHeight);
    const w = image.naturalWidth * scale;
    const h = image.naturalHeight * scale;
    const node = new Konva.Image({ image, x: (this.width - w) / 2, y: (this.height - h) / 2, width: w, height: h, name: 'object' });
    this.addNode(node);
    this.setTool('move');
    this.select(node);
  }

  /** A frame edited elsewhere, over the whole frame (the eraser still brings back the source under it). */
  placeFrame(image: HTMLImageElement): void {
    this.addNode(new Konva.Image({ image, x: 0, y: 0, width: this.width, height: this.height, listening: false }));
  }

  /** The frame as edited, at the video's size (no selection handles). */
  render(): HTMLCanvasElement {
    const selection = this.transformer.nodes();
    this.transformer.nodes([]);
    this.markLayer.hide(); // the marks are not part of the frame
    const z = this.zoom;
    this.stage.scale({ x: 1, y: 1 });
    this.stage.size({ width: this.width, height: this.height });
    const canvas = this.stage.toCanvas({ x: 0, y: 0, width: this.width, height: this.height, pixelRatio: 1 });
    this.setZoom(z, false); // an export is not a zoom: no change to report
    this.markLayer.show();
    this.transformer.nodes(selection);
    return canvas;
  }

  toBlob(): Promise<Blob> {
    return encode(this.render());
  }

  /** Only what the user added, transparent elsewhere (what a reload restores with placeFrame, over the source). */
  editsToBlob(): Promise<Blob> {
    this.base.hide();
    try {
      return encode(this.render());
    } finally {
      this.base.show();
    }
  }

  private pixels(): ImageData {
    const canvas = this.render();
    return canvas.getContext('2d')!.getImageData(0, 0, this.width, this.height);
  }

  private fill(p: { x: number; y: number }): void {
    const x = Math.floor(p.x);
    const y = Math.floor(p.y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const image = this.pixels();
    const patch = floodFill(image, x, y, { color: hexToRgb(this.color), tolerance: 40, recolour: this.recolour });
    const canvas = document.createElement('canvas');
    canvas.width = this.width;
    canvas.height = this.height;
    canvas.getContext('2d')!.putImageData(patch, 0, 0);
    this.addNode(new Konva.Image({ image: canvas, x: 0, y: 0, listening: false }));
  }

  private pick(p: { x: number; y: number }): void {
    const x = Math.floor(p.x);
    const y = Math.floor(p.y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const d = this.pixels().data;
    const i = (y * this.width + x) * 4;
    const hex = `#${[d[i], d[i + 1], d[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    this.color = hex;
    this.onColorPicked(hex);
  }

  setZoom(z: number, notify = true): void {
    this.zoom = Math.min(8, Math.max(0.1, z));
    this.stage.scale({ x: this.zoom, y: this.zoom });
    this.stage.size({ width: Math.round(this.width * this.zoom), height: Math.round(this.height * this.zoom) });
    if (notify) this.onChange();
  }

  fitTo(box: { width: number; height: number }): void {
    this.setZoom(Math.min(box.width / this.width, box.height / this.height, 4));
  }

  destroy(): void {
    this.stage.destroy();
  }
}

function encode(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('could not encode the frame'))), 'image/png'));
}

/** A white-on-black mask as the mark's colour where white, transparent elsewhere, at the frame's size. */
async function tint(mask: Blob, colour: string, width: number, height: number): Promise<HTMLCanvasElement> {
  const bitmap = await createImageBitmap(mask);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  tintMask(canvas, [...hexToRgb(colour), 255]);
  return canvas;
}
