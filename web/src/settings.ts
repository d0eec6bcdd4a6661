/**
 * The settings form, generated from GET /api/options (the edit schema): labels, defaults, ranges and help texts; the
 * basic fields first, the expert ones folded away. Empty fields mean "the default"; only what the user set goes into
 * the job's options.
 */
import { api, setOptionLabels, type OptionSpec, type VideoSummary } from './api.js';
import { $, el } from './dom.js';
import { duration } from './format.js';

/** Fields the Quality presets set: shown among the expert options, not beside the presets. */
const PRESET_FIELDS = new Set(['preview', 'steps']);
const PRESETS: Record<string, { preview: boolean; steps: string }> = {
  preview: { preview: true, steps: '' },
  standard: { preview: false, steps: '' },
  best: { preview: false, steps: '50' },
};

export class Settings {
  private specs: OptionSpec[] = [];
  private video: VideoSummary | null = null;
  /** The keyframes' times: each starts a block, which the estimate counts. */
  private keyframes: number[] = [];
  private timer = 0;

  async init(): Promise<void> {
    const { model, device, options, sampler } = await api.options();
    this.specs = options;
    this.describePresets(sampler);
    setOptionLabels(options);
    const primary = $('primary-options');
    const advanced = $('advanced-options');
    primary.append(field({ name: 'model', label: 'Model', help: `the model this server has loaded, on ${device}`, type: 'text', group: 'basic', default: model }, model));
    for (const spec of options) (spec.group === 'basic' && !PRESET_FIELDS.has(spec.name) ? primary : advanced).append(field(spec));
    $('settings-form').addEventListener('input', (e) => {
      const target = e.target as HTMLInputElement;
      if (target.name === 'quality') this.setPreset(target.value);
      else this.syncPreset();
      this.scheduleEstimate();
    });
  }

  /**
   * The presets in the server's terms: "Standard" is what a job runs unless it chooses (SVD's 25 steps, or a
   * few-step AnimateLCM UNet's 8); "Best" doubles SVD's steps, and is not offered on AnimateLCM: no finer setting is
   * measured there (docs/method-notes.md, "AnimateLCM": 8 × 0.75, 12 calls, reconstructs no better than the default).
   */
  private describePresets(sampler: { sampler: 'euler' | 'animatelcm'; steps: number } | undefined): void {
    const small = (value: string) => document.querySelector<HTMLElement>(`input[name=quality][value=${value}] + span small`);
    if (sampler?.sampler === 'animatelcm') {
      const standard = small('standard');
      if (standard) standard.textContent = `AnimateLCM's ${sampler.steps} steps: a few network passes per block`;
      const best = document.querySelector<HTMLInputElement>('input[name=quality][value=best]');
      if (best) best.closest('label')!.hidden = true;
    } else if (sampler) {
      const standard = small('standard');
      if (standard) standard.textContent = `the model's usual ${sampler.steps} steps`;
      PRESETS.best.steps = String(sampler.steps * 2);
    }
  }

  /** A Quality preset writes the fields it stands for (they stay editable among the expert options). */
  private setPreset(name: string): void {
    const preset = PRESETS[name];
    if (!preset) return;
    const preview = document.getElementById('opt-preview') as HTMLInputElement | null;
    const steps = document.getElementById('opt-steps') as HTMLInputElement | null;
    if (preview) preview.checked = preset.preview;
    if (steps) steps.value = preset.steps;
  }

  /** The preset that matches the fields, or none checked when the user set them otherwise. */
  private syncPreset(): void {
    const preview = (document.getElementById('opt-preview') as HTMLInputElement | null)?.checked ?? false;
    const steps = (document.getElementById('opt-steps') as HTMLInputElement | null)?.value ?? '';
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=quality]')) {
      const p = PRESETS[radio.value];
      radio.checked = p.preview === preview && p.steps === steps;
    }
  }

  /** The section's start (the frame the editor shows): "" for the first frame. */
  setStart(value: string): void {
    const start = document.getElementById('opt-start') as HTMLInputElement | null;
    if (start) start.value = value;
    this.scheduleEstimate();
  }

  /** Another random seed in the Variation field ("Try another variation"). */
  newVariation(): void {
    const seed = document.getElementById('opt-seed') as HTMLInputElement | null;
    if (seed) seed.value = String(Math.floor(Math.random() * 2 ** 31));
  }

  setKeyframes(times: readonly number[]): void {
    this.keyframes = [...times];
    this.scheduleEstimate();
  }

  setVideo(video: VideoSummary): void {
    this.video = video;
    this.scheduleEstimate();
  }

  /** The options JSON of the job (CLI names). */
  values(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const spec of this.specs) {
      const input = document.getElementById(`opt-${spec.name}`) as HTMLInputElement | HTMLSelectElement | null;
      if (!input) continue;
      if (spec.type === 'boolean') {
        const checked = (input as HTMLInputElement).checked;
        if (checked !== spec.default) out[spec.name] = checked;
      } else if (input.value.trim() !== '') {
        out[spec.name] = spec.type === 'number' || spec.type === 'integer' ? Number(input.value) : input.value.trim();
      }
    }
    return out;
  }

  /** Fills the form from options by the schema's names (a job's, for "Reuse settings"; a restored draft's). */
  apply(options: Record<string, unknown>): void {
    for (const spec of this.specs) {
      const input = document.getElementById(`opt-${spec.name}`) as HTMLInputElement | HTMLSelectElement | null;
      if (!input) continue;
      const value = options[spec.name];
      if (spec.type === 'boolean') (input as HTMLInputElement).checked = value === undefined ? spec.default === true : value === true;
      else input.value = value === undefined || value === null || value === spec.default ? '' : String(value);
    }
    this.syncPreset();
    this.scheduleEstimate();
  }

  private scheduleEstimate(): void {
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.estimate(), 250);
  }

  private async estimate(): Promise<void> {
    const out = $('estimate');
    if (!this.video) return;
    try {
      const e = await api.estimate(this.video, this.values(), this.keyframes);
      const what = `${e.frames} frames at ${e.size.width}×${e.size.height}, ${e.unet_calls} network passes in ${e.blocks} block${e.blocks > 1 ? 's' : ''}`;
      out.textContent = e.eta_s === null ? `${what}; time estimate once the server has measured its pace (a short test edit after loading, or the first job)` : `Estimated time ≈ ${duration(e.eta_s)} (${what}, ${e.basis})`;
      out.classList.remove('error');
      const warn = $('estimate-warning');
      warn.textContent = e.warnings.map((w) => `⚠ ${w}`).join('\n');
      warn.hidden = e.warnings.length === 0;
      // The pace arrives on its own (the test edit ends, a job finishes): ask again until it is there.
      if (e.eta_s === null) this.timer = window.setTimeout(() => void this.estimate(), 2000);
    } catch (err) {
      out.textContent = (err as Error).message;
      out.classList.add('error');
    }
  }
}

function field(spec: OptionSpec, fixed?: string): HTMLElement {
  const id = `opt-${spec.name}`;
  let input: HTMLInputElement | HTMLSelectElement;
  if (fixed !== undefined) {
    input = el('input', { id, type: 'text', value: fixed, readOnly: true });
  } else if (spec.type === 'boolean') {
    input = el('input', { id, type: 'checkbox', checked: spec.default === true });
  } else if (spec.type === 'choice') {
    input = el('select', { id });
    input.append(el('option', { value: '', textContent: spec.default ? `${spec.default} (default)` : 'default' }));
    for (const c of spec.choices ?? []) if (c !== spec.default) input.append(el('option', { value: c, textContent: c }));
  } else {
    const numeric = spec.type === 'number' || spec.type === 'integer';
    input = el('input', { id, type: numeric ? 'number' : 'text', placeholder: spec.default === null ? spec.defaultText ?? 'auto' : String(spec.default) });
    if (spec.type === 'integer') input.step = '1';
    if (spec.type === 'number') input.step = 'any';
    if (numeric && spec.min !== undefined) input.min = String(spec.min);
    if (numeric && spec.max !== undefined && spec.max < Number.MAX_SAFE_INTEGER) input.max = String(spec.max);
    if (spec.type === 'size') input.placeholder = `${spec.defaultText ? 'auto' : ''}, e.g. 1024x576`.replace(/^, /, '');
    if (spec.type === 'time') input.placeholder = spec.defaultText ?? 'seconds or m:s';
  }
  const label = el('label', { htmlFor: id, className: 'option-name' }, spec.label);
  const row = el('div', { className: `option ${spec.type === 'boolean' ? 'boolean' : ''}` }, label, input, el('small', { textContent: spec.help }));
  row.title = spec.help;
  return row;
}
