/**
 * The result: source | edited frame | result with one transport (play/pause/seek drive both videos, kept in step;
 * for a section, the source from the section's start), side by side or as a wipe (the edit over the source, cut where
 * the user drags on the picture or at the slider), the per-frame mask in place of the result (where the job kept the
 * video's own pixels), the sound, what the job ran with, and the downloads.
 */
import type { Job } from './api.js';
import { $ } from './dom.js';
import { duration } from './format.js';

/** The options' time syntax (seconds, or [h:]m:s): where a section starts in the source. */
export function seconds(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  const parts = String(value).split(':').map(Number);
  return parts.some((n) => !Number.isFinite(n)) ? 0 : parts.reduce((t, n) => t * 60 + n, 0);
}

export class Compare {
  private readonly source = $<HTMLVideoElement>('video-source');
  private readonly result = $<HTMLVideoElement>('video-result');
  private readonly seek = $<HTMLInputElement>('seek');
  private readonly play = $<HTMLButtonElement>('play');
  private frame = 0;
  /** Where the result starts in the source (a section's start). */
  private offset = 0;
  private job: Job | null = null;

  constructor() {
    this.play.addEventListener('click', () => (this.result.paused ? void this.start() : this.pause()));
    this.seek.addEventListener('input', () => {
      const t = (Number(this.seek.value) / 1000) * (this.result.duration || 0);
      this.result.currentTime = t;
      this.source.currentTime = t + this.offset;
    });
    $('sound').addEventListener('click', () => {
      this.result.muted = !this.result.muted;
      $('sound').textContent = this.result.muted ? 'Sound off' : 'Sound on';
      $('sound').setAttribute('aria-pressed', String(!this.result.muted));
    });
    // Wipe by dragging on the picture (mouse or finger), as well as with the slider.
    const box = $('compare');
    const drag = (e: PointerEvent) => {
      if (!box.classList.contains('wipe-mode') || (e.type === 'pointermove' && e.buttons === 0)) return;
      const r = box.getBoundingClientRect();
      $<HTMLInputElement>('wipe').value = String(Math.round(Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) * 100));
      this.wipe();
    };
    box.addEventListener('pointerdown', drag);
    box.addEventListener('pointermove', drag);
    this.result.addEventListener('ended', () => this.pause());
    $('mode-side').addEventListener('click', () => this.mode('side'));
    $('mode-wipe').addEventListener('click', () => this.mode('wipe'));
    $('mode-mask').addEventListener('click', () => this.mode('mask'));
    $<HTMLInputElement>('wipe').addEventListener('input', () => this.wipe());
    this.wipe();
  }

  open(job: Job): void {
    this.pause();
    $('result-title').textContent = `— ${job.video.name}`;
    // A section re-rendered into an earlier result is the whole video again.
    this.offset = job.into_job ? 0 : seconds(job.options.start);
    this.source.src = job.urls.source;
    this.source.addEventListener('loadedmetadata', () => (this.source.currentTime = this.offset), { once: true });
    this.job = job;
    this.result.src = job.urls.result!;
    this.mode('side');
    $<HTMLImageElement>('result-frame').src = job.urls.edited_frame;
    $('result-info').textContent = describe(job);
    const link = $<HTMLAnchorElement>('download-result');
    link.href = `${job.urls.result}?download=1`;
    const masks = $<HTMLAnchorElement>('download-masks');
    masks.hidden = !job.urls.masks;
    $('mode-mask').hidden = !job.urls.masks;
    if (job.urls.masks) masks.href = `${job.urls.masks}?download=1`;
    $('result-panel').hidden = false;
    $('result-panel').dataset.job = job.id;
    $('result-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  private async start(): Promise<void> {
    if (this.result.ended) this.result.currentTime = 0;
    this.source.currentTime = this.result.currentTime + this.offset;
    await Promise.all([this.result.play(), this.source.play()]);
    this.play.textContent = 'Pause';
    const tick = () => {
      // The edit leads; the source follows it within a frame or so.
      const want = this.result.currentTime + this.offset;
      if (Math.abs(this.source.currentTime - want) > 0.05) this.source.currentTime = want;
      this.seek.value = String(Math.round((this.result.currentTime / (this.result.duration || 1)) * 1000));
      $('time').textContent = `${this.result.currentTime.toFixed(1)} s`;
      if (!this.result.paused) this.frame = requestAnimationFrame(tick);
    };
    this.frame = requestAnimationFrame(tick);
  }

  private pause(): void {
    cancelAnimationFrame(this.frame);
    this.result.pause();
    this.source.pause();
    this.play.textContent = 'Play';
  }

  private mode(m: 'side' | 'wipe' | 'mask'): void {
    const box = $('compare');
    box.classList.toggle('side', m !== 'wipe');
    box.classList.toggle('wipe-mode', m === 'wipe');
    for (const k of ['side', 'wipe', 'mask'] as const) $(`mode-${k}`).classList.toggle('active', m === k);
    // The mask plays in the result's place, at the same time (it has the result's frames and timing).
    const want = m === 'mask' ? this.job?.urls.masks : this.job?.urls.result;
    if (want && this.result.getAttribute('src') !== want) {
      const at = this.result.currentTime;
      this.pause();
      this.result.src = want;
      this.result.addEventListener('loadedmetadata', () => (this.result.currentTime = at), { once: true });
    }
    $('result-caption').textContent = m === 'mask' ? 'Mask (white: re-rendered)' : 'Result';
    this.wipe();
  }

  private wipe(): void {
    const x = Number($<HTMLInputElement>('wipe').value);
    const pane = document.querySelector<HTMLElement>('#compare .pane.result');
    if (pane) pane.style.clipPath = $('compare').classList.contains('wipe-mode') ? `inset(0 0 0 ${x}%)` : '';
    $('compare').style.setProperty('--wipe', `${x}%`);
  }
}

/** "200×120, 16 frames at 12 fps · processed at 64×64 in 1 block, 6 network passes · ran 25 s · settings: steps 2" */
function describe(job: Job): string {
  const r = job.result;
  const parts: string[] = [];
  if (r) {
    parts.push(`${r.width}×${r.height}, ${r.frames} frames at ${Number(r.fps.toFixed(2))} fps`);
    parts.push(`processed at ${r.processing.width}×${r.processing.height} in ${r.blocks} block${r.blocks > 1 ? 's' : ''}, ${r.unet_calls} network passes`);
  }
  if (job.started_at && job.finished_at) parts.push(`ran ${duration((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000)}`);
  const set = Object.entries(job.options).map(([k, v]) => `${k} ${String(v)}`);
  parts.push(set.length ? `settings: ${set.join(', ')}` : 'default settings');
  return parts.join(' · ');
}
