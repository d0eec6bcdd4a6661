/**
 * "Re-render a section…" in the result view of a job that rendered the whole video: a section (start, duration; by
 * default the settings' section, else 1 s at the playhead) is edited again, optionally as another variation (a new
 * seed), and spliced into that result with cross-faded joins (POST /api/jobs with `into_job`). The section's edited
 * frame is the result's own frame at its start, so the re-rendered section carries the same edit.
 */
import { api, type Job } from './api.js';
import { $, show } from './dom.js';
import { keyTime } from './keyframes.js';

export class SectionRerender {
  private job: Job | null = null;
  /** A job was submitted (the page follows it). */
  onCreated: (id: string) => void = () => {};

  /** `section`: the settings' section, when one is set (seconds). */
  constructor(private readonly section: () => { start?: number; duration?: number }) {
    $('rerender-section').addEventListener('click', () => this.openForm());
    $('rerender-cancel').addEventListener('click', () => show($('rerender-form'), false));
    $('rerender-here').addEventListener('click', () => {
      $<HTMLInputElement>('rerender-start').value = String(keyTime($<HTMLVideoElement>('video-result').currentTime));
    });
    $('rerender-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
  }

  /** The job the result view shows: offered when its result is the whole video (a section goes into that only). */
  open(job: Job): void {
    this.job = job;
    show($('rerender-section'), job.result !== null && job.result.frames === job.video.frames);
    show($('rerender-form'), false);
    show($('rerender-error'), false);
  }

  private openForm(): void {
    if (!this.job) return;
    const s = this.section();
    const playhead = $<HTMLVideoElement>('video-result').currentTime;
    const start = Math.min(s.start ?? playhead, Math.max(0, this.job.video.duration_s - 1 / this.job.video.fps));
    $<HTMLInputElement>('rerender-start').value = String(keyTime(start));
    $<HTMLInputElement>('rerender-duration').value = String(s.duration ?? 1);
    show($('rerender-form'), true);
    show($('rerender-error'), false);
  }

  private async submit(): Promise<void> {
    const job = this.job;
    if (!job) return;
    const error = $('rerender-error');
    show(error, false);
    const start = keyTime(Number($<HTMLInputElement>('rerender-start').value));
    const duration = Number($<HTMLInputElement>('rerender-duration').value);
    const fail = (message: string) => {
      error.textContent = message;
      show(error, true);
    };
    if (!(start >= 0 && start < job.video.duration_s)) return fail(`the start must be a time in the video (0 to ${job.video.duration_s.toFixed(2)} s)`);
    if (!(duration > 0)) return fail('the duration must be more than 0 s');
    const button = $<HTMLButtonElement>('rerender-run');
    button.disabled = true;
    try {
      const options: Record<string, unknown> = { ...job.options, start, duration };
      if ($<HTMLInputElement>('rerender-variation').checked) options.seed = Math.floor(Math.random() * 2 ** 31);
      const [from, frame] = await Promise.all([api.uploadFromJob(job.id), api.resultFrame(job.id, start)]);
      const created = await api.createJob(from.id, frame, options, { intoJob: job.id });
      show($('rerender-form'), false);
      this.onCreated(created.id);
    } catch (err) {
      fail((err as Error).message);
    } finally {
      button.disabled = false;
    }
  }
}
