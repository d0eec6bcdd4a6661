/** The job list: queue and history from GET /api/jobs, live progress over each active job's event stream. */
import { api, type Job } from './api.js';
import { $, el } from './dom.js';
import { seconds } from './compare.js';
import { statusText } from './format.js';

export class JobList {
  private readonly jobs = new Map<string, Job>();
  private readonly streams = new Map<string, EventSource>();
  onOpen: (job: Job) => void = () => {};
  /** The job's source and edited frame back in the editor, its settings in the form. */
  onEditAgain: (job: Job) => void = () => {};
  /** The same source, edited frame and settings, submitted again. */
  onRetry: (job: Job) => void = () => {};
  onReuse: (job: Job) => void = () => {};

  async load(): Promise<void> {
    for (const job of (await api.jobs()).reverse()) this.upsert(job);
  }

  /** Jobs submitted from this page: opened in the result view when they finish. */
  private readonly mine = new Set<string>();

  watch(id: string): void {
    this.mine.add(id);
  }

  upsert(job: Job): void {
    const before = this.jobs.get(job.id);
    this.jobs.set(job.id, job);
    this.render(job);
    this.showInTitle();
    if (job.status === 'done' && before && before.status !== 'done' && this.mine.delete(job.id)) this.onOpen(job);
    if ((job.status === 'queued' || job.status === 'running') && !this.streams.has(job.id)) this.follow(job.id);
  }

  private follow(id: string): void {
    const source = new EventSource(`/api/jobs/${id}/events`);
    this.streams.set(id, source);
    source.addEventListener('job', (e) => this.upsert(JSON.parse((e as MessageEvent).data) as Job));
    source.addEventListener('end', () => {
      source.close();
      this.streams.delete(id);
    });
    source.onerror = () => {
      // The server restarted or the job was deleted: reload its state once the stream gives up.
      if (source.readyState === EventSource.CLOSED) this.streams.delete(id);
    };
  }

  /** The running job's progress in the tab's title, so it shows from another tab. */
  private showInTitle(): void {
    const running = [...this.jobs.values()].find((j) => j.status === 'running');
    document.title = running ? `${Math.round((running.progress?.fraction ?? 0) * 100)}% · ${running.video.name} — Videoshop` : 'Videoshop';
  }

  private render(job: Job): void {
    const list = $('job-list');
    $('jobs-empty').hidden = true;
    let item = document.getElementById(`job-${job.id}`);
    if (!item) {
      item = el('li', { id: `job-${job.id}`, className: 'job' });
      list.prepend(item);
    }
    item.dataset.status = job.status;
    const thumb = el('img', { src: job.urls.thumbnail, alt: '', className: 'thumb', loading: 'lazy' });
    const bar = el('div', { className: 'progress small' }, el('div', { className: 'bar' }));
    (bar.firstChild as HTMLElement).style.width = `${Math.round((job.progress?.fraction ?? (job.status === 'done' ? 1 : 0)) * 100)}%`;
    const actions = el('div', { className: 'actions' });
    if (job.status === 'done') actions.append(el('button', { type: 'button', className: 'open', textContent: 'Open', onclick: () => this.onOpen(job) }));
    if (job.status === 'queued' || job.status === 'running') {
      actions.append(el('button', { type: 'button', className: 'cancel', textContent: 'Cancel', onclick: () => confirm(`Cancel the render of ${job.video.name}? The work done so far is lost.`) && void api.remove(job.id) }));
    } else {
      actions.append(el('button', { type: 'button', className: 'edit-again', textContent: 'Edit again', title: 'Open this job\'s frame and settings in the editor', onclick: () => this.onEditAgain(job) }));
      if (job.status !== 'done') actions.append(el('button', { type: 'button', className: 'retry', textContent: 'Retry', onclick: () => this.onRetry(job) }));
      actions.append(el('button', { type: 'button', className: 'reuse', textContent: 'Reuse settings', title: 'Put this job\'s settings in the form', onclick: () => this.onReuse(job) }));
      actions.append(el('button', { type: 'button', className: 'delete', textContent: 'Delete', onclick: () => confirm(`Delete ${job.video.name} and its result? This cannot be undone.`) && void this.remove(job.id) }));
    }
    item.replaceChildren(
      thumb,
      el('div', { className: 'meta' },
        el('strong', { textContent: job.video.name, title: job.video.name }),
        el('span', { className: 'status', textContent: statusText(job) }),
        ...inputsLine(job),
        ...(job.status === 'running' || job.status === 'queued' ? [bar] : []),
        ...((job.status === 'running' || job.status === 'queued') && job.requeued
          ? [el('small', { className: 'requeued', textContent: `↻ ${job.requeued}: it starts over from the beginning` })] : []),
        ...(job.warnings.length ? [el('small', { className: 'warning', textContent: `⚠ ${job.warnings.join('; ')}`, title: job.warnings.join('\n') })] : []),
        actions),
    );
  }

  private async remove(id: string): Promise<void> {
    await api.remove(id);
    this.jobs.delete(id);
    document.getElementById(`job-${id}`)?.remove();
    $('jobs-empty').hidden = this.jobs.size > 0;
  }
}

/** What a job was given beyond its first frame: the section of which earlier job it re-renders, its keyframes. */
function inputsLine(job: Job): HTMLElement[] {
  const parts: (string | HTMLElement)[] = [];
  if (job.into_job) {
    const start = seconds(job.options.start);
    const end = job.options.duration === undefined ? '' : `–${(start + seconds(job.options.duration)).toFixed(2)}`;
    parts.push(`Section re-render (${start.toFixed(2)}${end} s) of job `,
      el('a', { href: `#job-${job.into_job}`, textContent: job.into_job.slice(0, 6), title: 'The job whose result this section goes into' }));
  }
  const keys = job.keyframes?.length ?? 0;
  if (keys) parts.push(`${parts.length ? ' · ' : ''}${keys} keyframe${keys > 1 ? 's' : ''} (${job.keyframes!.map((k) => `${k.time.toFixed(2)} s`).join(', ')})`);
  return parts.length ? [el('small', { className: 'into' }, ...parts)] : [];
}
