/**
 * The result: source and edit with one transport (play/pause/seek drive both videos, kept in step), side by side or
 * as a wipe (the edit over the source, cut at the slider), and the download.
 */
import type { Job } from './api.js';
import { $ } from './dom.js';

export class Compare {
  private readonly source = $<HTMLVideoElement>('video-source');
  private readonly result = $<HTMLVideoElement>('video-result');
  private readonly seek = $<HTMLInputElement>('seek');
  private readonly play = $<HTMLButtonElement>('play');
  private frame = 0;

  constructor() {
    this.play.addEventListener('click', () => (this.result.paused ? void this.start() : this.pause()));
    this.seek.addEventListener('input', () => {
      const t = (Number(this.seek.value) / 1000) * (this.result.duration || 0);
      this.result.currentTime = t;
      this.source.currentTime = t;
    });
    this.result.addEventListener('ended', () => this.pause());
    $('mode-side').addEventListener('click', () => this.mode('side'));
    $('mode-wipe').addEventListener('click', () => this.mode('wipe'));
    $<HTMLInputElement>('wipe').addEventListener('input', () => this.wipe());
    this.wipe();
  }

  open(job: Job): void {
    this.pause();
    $('result-title').textContent = `— ${job.video.name}`;
    this.source.src = job.urls.source;
    this.result.src = job.urls.result!;
    const link = $<HTMLAnchorElement>('download-result');
    link.href = `${job.urls.result}?download=1`;
    $('result-panel').hidden = false;
    $('result-panel').dataset.job = job.id;
    $('result-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  private async start(): Promise<void> {
    if (this.result.ended) this.result.currentTime = 0;
    this.source.currentTime = this.result.currentTime;
    await Promise.all([this.result.play(), this.source.play()]);
    this.play.textContent = 'Pause';
    const tick = () => {
      // The edit leads; the source follows it within a frame or so.
      if (Math.abs(this.source.currentTime - this.result.currentTime) > 0.05) this.source.currentTime = this.result.currentTime;
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

  private mode(m: 'side' | 'wipe'): void {
    const box = $('compare');
    box.classList.toggle('side', m === 'side');
    box.classList.toggle('wipe-mode', m === 'wipe');
    $('mode-side').classList.toggle('active', m === 'side');
    $('mode-wipe').classList.toggle('active', m === 'wipe');
    this.wipe();
  }

  private wipe(): void {
    const x = Number($<HTMLInputElement>('wipe').value);
    const pane = document.querySelector<HTMLElement>('#compare .pane.result');
    if (pane) pane.style.clipPath = $('compare').classList.contains('wipe-mode') ? `inset(0 0 0 ${x}%)` : '';
    $('compare').style.setProperty('--wipe', `${x}%`);
  }
}
