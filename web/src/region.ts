/**
 * The region the edit will change, shown before Render: the server runs the edit's own localizer on the first frame
 * and the frame as edited (POST /api/uploads/:id/region); the page tints that region over the editor and says what
 * will happen (its share of the frame, and warnings knowable now: unedited, so large the whole frame re-renders).
 */
import { api, type Region } from './api.js';
import { $, show } from './dom.js';
import { tintMask, type MarkImages } from './marks.js';

export class RegionPreview {
  private timer = 0;
  private seq = 0;

  /** Asks again shortly (the editor changed: the frame or the marks); only the latest answer is shown. */
  schedule(uploadId: string, frame: () => Promise<{ frame: Blob; marks: MarkImages }>): void {
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.update(uploadId, frame), 700);
  }

  private async update(uploadId: string, frame: () => Promise<{ frame: Blob; marks: MarkImages }>): Promise<void> {
    const mine = ++this.seq;
    let region: Region;
    try {
      const now = await frame();
      region = await api.region(uploadId, now.frame, now.marks);
    } catch {
      return; // the server is away or the upload expired: the banner and Render say so
    }
    if (mine !== this.seq) return;
    const line = $('region-info');
    line.textContent = region.looks_unedited ? '' : `The edit changes ${percent(region.coverage)} of the frame; ${
      region.whole_frame ? 'the whole frame will be re-rendered.' : 'outside the tinted region the video stays exactly as it is.'}`;
    const warn = $('precheck');
    warn.textContent = region.warnings.map((w) => `⚠ ${w}`).join('\n');
    show(warn, region.warnings.length > 0);
    document.body.dataset.region = region.looks_unedited ? 'unedited' : region.whole_frame ? 'whole' : 'local';
    this.draw(region);
  }

  /** The mask (grey PNG on the localizer's grid) tinted into an overlay canvas, scaled over the editor's frame. */
  private draw(region: Region): void {
    const image = new Image();
    image.onload = () => {
      const canvas = overlay();
      canvas.width = region.width;
      canvas.height = region.height;
      canvas.getContext('2d')!.drawImage(image, 0, 0);
      tintMask(canvas, [255, 0, 200, 110]);
    };
    image.src = `data:image/png;base64,${region.mask_png}`;
  }
}

function percent(share: number): string {
  return share < 0.01 ? 'less than 1%' : `${Math.round(share * 100)}%`;
}

/** The overlay lives in the editor's host, above the stage (the editor replaces the host's children when it opens). */
function overlay(): HTMLCanvasElement {
  const host = $('canvas-host');
  let canvas = host.querySelector<HTMLCanvasElement>('canvas.region-overlay');
  if (!canvas) {
    canvas = document.createElement('canvas');
    canvas.className = 'region-overlay';
    canvas.setAttribute('aria-hidden', 'true');
    host.append(canvas);
  }
  canvas.hidden = !$<HTMLInputElement>('show-region').checked;
  return canvas;
}
