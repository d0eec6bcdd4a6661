/** The Videoshop page: upload → edit the first frame → settings → render (live progress) → compare and download. */
import { api, type Job, type Upload } from './api.js';
import { Compare, seconds } from './compare.js';
import { $, loadImage, show } from './dom.js';
import { FrameEditor, type RegionMark, type Tool } from './editor.js';
import { mb } from './format.js';
import { JobList } from './jobs.js';
import { composite, FrameStrip, keyTime, MAX_KEYFRAMES, type FrameSlot } from './keyframes.js';
import { markImages, type MarkImages } from './marks.js';
import { drafts } from './persist.js';
import { RegionPreview } from './region.js';
import { SectionRerender } from './rerender.js';
import { Settings } from './settings.js';
import { initTheme } from './theme.js';

let upload: Upload | null = null;
/** The time of the frame in the editor (0: the first frame); a render starts there. */
let frameTime = 0;
let editor: FrameEditor | null = null;
let maxUpload = Infinity;
const settings = new Settings();
const jobs = new JobList();
const compare = new Compare();
const region = new RegionPreview();
const strip = new FrameStrip((time) => (upload ? frameUrl(upload, time) : ''));
strip.onSelect = (index) => void showFrame(index);
strip.onRemove = (index) => void removeKeyframe(index);
const rerender = new SectionRerender(() => {
  const v = settings.values();
  return { start: v.start === undefined ? undefined : seconds(v.start), duration: v.duration === undefined ? undefined : seconds(v.duration) };
});
rerender.onCreated = (id) => void follow(id);
jobs.onOpen = (job) => {
  compare.open(job);
  rerender.open(job);
};
jobs.onEditAgain = (job) => void editAgain(job);
jobs.onRetry = (job) => void retry(job);
jobs.onReuse = (job) => {
  settings.apply(job.options);
  $('settings-panel').scrollIntoView({ block: 'start' });
};

async function init(): Promise<void> {
  initTheme();
  await refreshHealth();
  setInterval(() => void refreshHealth(), 5000);
  await Promise.all([settings.init(), jobs.load()]);
  wireUpload();
  wireEditor();
  wireRun();
  wireTimeline();
  await restoreDraft();
  document.body.dataset.ready = 'true';
}

// --- the draft: what was being edited survives a reload ----------------------------------------------------------

let draftTimer = 0;
function saveDraftSoon(): void {
  clearTimeout(draftTimer);
  document.body.dataset.draft = 'pending';
  draftTimer = window.setTimeout(() => void saveDraft(), 400);
}

async function saveDraft(): Promise<void> {
  if (!upload || !editor) return;
  await keepActiveEdits();
  const ok = await drafts.save({
    upload, edits: strip.slots[0].edits, keyframes: strip.keyframes, options: settings.values(), marks: strip.slots[0].marks,
  });
  document.body.dataset.draft = ok ? 'saved' : 'unsaved';
}

async function restoreDraft(): Promise<void> {
  const draft = await drafts.load();
  if (!draft) return;
  try {
    await api.uploadInfo(draft.upload.id);
  } catch {
    await drafts.clear(); // the upload expired on the server (a day): nothing to go back to
    return;
  }
  settings.apply(draft.options);
  await openUpload(draft.upload, draft.edits, draft.keyframes, draft.marks);
  note(`Restored your unfinished edit of ${draft.upload.video.name}.`);
}

/** A job's source and edited frame back in the editor (its additions as one layer), its settings in the form. */
async function editAgain(job: Job): Promise<void> {
  try {
    const [from, frame, keyframes, marks] = await Promise.all([
      api.uploadFromJob(job.id), fetch(job.urls.edited_frame).then((r) => r.blob()), jobKeyframes(job), jobMarks(job)]);
    settings.apply(job.options);
    const kept: RegionMark[] = [];
    if (marks.mask) kept.push({ kind: 'add', width: 0, points: [], image: marks.mask });
    if (marks.keepMask) kept.push({ kind: 'keep', width: 0, points: [], image: marks.keepMask });
    await openUpload(from, frame, keyframes.map((k) => ({ time: k.time, edits: k.image })), kept);
    $('editor-panel').scrollIntoView({ block: 'start' });
  } catch (err) {
    note((err as Error).message, true);
  }
}

async function retry(job: Job): Promise<void> {
  try {
    const [from, frame, keyframes] = await Promise.all([api.uploadFromJob(job.id), fetch(job.urls.edited_frame).then((r) => r.blob()), jobKeyframes(job)]);
    const created = await api.createJob(from.id, frame, job.options, { keyframes, intoJob: job.into_job ?? undefined, marks: await jobMarks(job) });
    await follow(created.id);
  } catch (err) {
    note((err as Error).message, true);
  }
}

/** A job's region marks as it was given them (Retry). */
async function jobMarks(job: Job): Promise<MarkImages> {
  const get = async (url: string | null | undefined) => (url ? (await fetch(url)).blob() : null);
  return { mask: await get(job.marks?.mask), keepMask: await get(job.marks?.keep_mask) };
}

/** A job's keyframes as it was given them (Edit again, Retry). */
function jobKeyframes(job: Job): Promise<{ time: number; image: Blob }[]> {
  return Promise.all((job.keyframes ?? []).map(async (k) => ({ time: k.time, image: await (await fetch(k.url)).blob() })));
}

/** A job this page submitted: in the list, followed, opened when done. */
async function follow(id: string): Promise<void> {
  jobs.watch(id);
  jobs.upsert(await api.job(id));
}

async function refreshHealth(): Promise<void> {
  const pill = $('server-status');
  try {
    const h = await api.health();
    maxUpload = h.limits.max_upload_bytes;
    $('upload-limit').textContent = `up to ${mb(maxUpload)}`;
    const state = h.model.state === 'ready' ? 'ready' : h.model.state === 'remote' ? 'jobs go to remote workers' : h.model.state === 'failed' ? `model failed: ${h.model.error}` : 'loading the model…';
    pill.textContent = `${state} · ${h.model.device} · ${h.queue.running} running, ${h.queue.queued} queued`;
    pill.dataset.state = h.model.state;
    setOnline(true);
  } catch {
    pill.textContent = 'server unreachable';
    pill.dataset.state = 'failed';
    setOnline(false);
  }
}

/** While the server is down: a banner, and Render paused (what the user drew stays in the page). */
function setOnline(online: boolean): void {
  show($('offline-banner'), !online);
  $('settings-form').classList.toggle('paused', !online);
  $<HTMLButtonElement>('run').setAttribute('aria-disabled', String(!online));
  document.body.dataset.online = String(online);
}

// --- 1. upload ---------------------------------------------------------------------------------------------------

function wireUpload(): void {
  const zone = $('drop-zone');
  const input = $<HTMLInputElement>('video-input');
  input.addEventListener('change', () => input.files?.[0] && void sendVideo(input.files[0]));
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void sendVideo(file);
  });
  zone.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && input.click());
  $('try-sample').addEventListener('click', () => void trySample());
}

/** Onboarding: the shipped sample (two shapes moving, web/sample.mp4) through the normal upload, and an edit to try. */
async function trySample(): Promise<void> {
  const blob = await (await fetch('/sample.mp4')).blob();
  await sendVideo(new File([blob], 'sample.mp4', { type: 'video/mp4' }));
  if (!editor) return;
  const hint = $('editor-hint');
  hint.textContent = 'Try this: choose Fill, tick Recolour, pick a colour and click the green shape. Then Render with Quality: Preview.';
  hint.classList.add('suggestion');
}

async function sendVideo(file: File): Promise<void> {
  show($('upload-error'), false);
  if (file.size > maxUpload) {
    note(`${file.name} is ${mb(file.size)}: the limit is ${mb(maxUpload)}`, true);
    return;
  }
  const box = $('upload-progress');
  const bar = box.querySelector<HTMLElement>('.bar')!;
  const label = box.querySelector<HTMLElement>('.label')!;
  show(box, true);
  try {
    upload = await api.upload(file, (f) => {
      bar.style.width = `${Math.round(f * 100)}%`;
      label.textContent = f < 1 ? `uploading ${file.name}: ${Math.round(f * 100)}% of ${mb(file.size)}` : 'checking the video…';
    });
  } catch (err) {
    show(box, false);
    note((err as Error).message, true);
    return;
  }
  show(box, false);
  await openUpload(upload);
  saveDraftSoon();
}

/** An uploaded video in the page: its preview, its first frame in the editor (with earlier additions laid over it). */
async function openUpload(u: Upload, edits?: Blob | null, keyframes: FrameSlot[] = [], marks?: RegionMark[]): Promise<void> {
  upload = u;
  show($('intro'), false);
  const v = u.video;
  $<HTMLVideoElement>('preview-video').src = u.video_url;
  $('preview-info').textContent = `${v.name} · ${v.width}×${v.height} · ${v.frames} frames · ${v.fps.toFixed(2).replace(/\.?0+$/, '')} fps · ${v.duration_s.toFixed(1)} s · ${mb(v.bytes)}`;
  show($('preview'), true);
  const timeline = $<HTMLInputElement>('timeline');
  timeline.max = String(Math.max(0, v.duration_s - 1 / v.fps));
  timeline.step = String(1 / v.fps);
  frameTime = seconds(settings.values().start);
  timeline.value = String(frameTime);
  $('timeline-time').textContent = `${frameTime.toFixed(2)} s`;
  strip.reset({ time: frameTime, edits: edits ?? null, marks }, keyframes);
  await showFrame(0, false);
  settings.setKeyframes(strip.keyframes.map((k) => k.time));
  settings.setVideo(v);
  show($('settings-panel'), true);
  checkRegion();
}

function frameUrl(u: Upload, time: number): string {
  return time > 0 ? `${u.frame_url}?time=${time.toFixed(3)}` : u.frame_url;
}

/** The timeline: scrub the source; "Edit this frame" puts that frame in the editor and starts the render there. */
function wireTimeline(): void {
  const timeline = $<HTMLInputElement>('timeline');
  const video = $<HTMLVideoElement>('preview-video');
  timeline.addEventListener('input', () => {
    video.currentTime = Number(timeline.value);
    $('timeline-time').textContent = `${Number(timeline.value).toFixed(2)} s`;
  });
  video.addEventListener('seeked', () => {
    if (Math.abs(Number(timeline.value) - video.currentTime) > 1e-3) {
      timeline.value = String(video.currentTime);
      $('timeline-time').textContent = `${video.currentTime.toFixed(2)} s`;
    }
  });
  $('edit-this-frame').addEventListener('click', () => void editFrameAt(Number(timeline.value)));
  $('add-keyframe').addEventListener('click', () => void addKeyframeAt(Number(timeline.value)));
}

async function editFrameAt(time: number): Promise<void> {
  if (!upload) return;
  await keepActiveEdits();
  if (strip.slots[0].edits && !confirm('Your drawing is on another frame. Start again on this one?')) return;
  frameTime = Math.round(time * 1000) / 1000;
  show($('start-note'), false);
  settings.setStart(frameTime > 0 ? String(frameTime) : '');
  strip.slots[0] = { time: frameTime, edits: null };
  await showFrame(0, false);
  settings.setVideo(upload.video);
  checkRegion();
  saveDraftSoon();
}

/** Start typed by hand: the editor follows it while nothing is drawn; with a drawing, the mismatch is said. */
let startTimer = 0;
function startChanged(): void {
  clearTimeout(startTimer);
  startTimer = window.setTimeout(() => {
    const start = seconds(settings.values().start);
    const line = $('start-note');
    if (Math.abs(start - frameTime) < 1e-3) return show(line, false);
    if (!strip.slots[0].edits && !(strip.active === 0 && editor?.canUndo)) return void editFrameAt(start);
    line.textContent = `⚠ The editor shows the frame at ${frameTime.toFixed(2)} s but the render would start at ${start.toFixed(2)} s: the result is conditioned on the edited frame, so pick that frame on the timeline (Edit this frame).`;
    show(line, true);
  }, 600);
}

function checkRegion(): void {
  const e = editor;
  // The region is found against the first frame: a keyframe's is the edit's own business.
  if (upload && e && strip.active === 0) {
    region.schedule(upload.id, async () => ({ frame: await e.toBlob(), marks: await markImages(e.marks(), e.width, e.height) }));
  }
}

// --- keyframes: later frames edited too ---------------------------------------------------------------------------

/**
 * The slot whose drawing the editor holds; null while the editor changes frames. Kept apart from `strip.active`,
 * which moves at once: a draft saved while the next frame loads must not file the old editor's drawing under it.
 */
let shown: FrameSlot | null = null;

/** The editor's additions kept in the frame it shows (before it shows another, a draft is saved, or a render). */
async function keepActiveEdits(): Promise<void> {
  const slot = shown;
  const e = editor;
  if (!slot || !e) return;
  slot.marks = e.marks();
  slot.edits = e.canUndo ? await e.editsToBlob() : null;
}

/** Shows frame `index` of the strip (0: the first frame) in the editor, with its additions laid back over it. */
async function showFrame(index: number, keep = true): Promise<void> {
  if (!upload) return;
  if (keep) await keepActiveEdits();
  shown = null;
  strip.active = index;
  const slot = strip.slots[index];
  await openEditor(frameUrl(upload, slot.time));
  if (slot.edits && editor) {
    const url = URL.createObjectURL(slot.edits);
    try {
      editor.placeFrame(await loadImage(url));
    } finally {
      URL.revokeObjectURL(url);
    }
  }
  await editor?.setMarks(index === 0 ? slot.marks ?? [] : []);
  $('canvas-host').dataset.marksRestored = String(index === 0 ? slot.marks?.length ?? 0 : 0);
  showMarkTools(index === 0);
  if (strip.slots[strip.active] === slot) shown = slot;
  strip.render();
  $('editor-title').textContent = index === 0 ? 'Edit the first frame' : `Edit the keyframe at ${slot.time.toFixed(2)} s`;
  checkRegion();
}

/** The region marks belong to the first frame (the edit finds its region there): their tools only show there. */
function showMarkTools(on: boolean): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tools button[data-tool^="mark-"]')) b.hidden = !on;
  if (!on && editor?.tool.startsWith('mark-')) editor.setTool('brush');
  updateToolbar();
}

/** "Add keyframe here": the timeline's frame becomes another frame to edit (after the first). */
async function addKeyframeAt(time: number): Promise<void> {
  if (!upload) return;
  const t = keyTime(time);
  if (t <= strip.slots[0].time + 1e-3) {
    note(`A keyframe is a later frame: move the timeline past the first frame (${strip.slots[0].time.toFixed(2)} s), or use Edit this frame.`, true);
    return;
  }
  if (strip.keyframes.length >= MAX_KEYFRAMES && !strip.slots.some((s) => Math.abs(s.time - t) < 1e-3)) {
    note(`A render takes at most ${MAX_KEYFRAMES} keyframes: remove one first.`, true);
    return;
  }
  await keepActiveEdits();
  const index = strip.add(t);
  settings.setKeyframes(strip.keyframes.map((k) => k.time));
  await showFrame(index);
  $('editor-panel').scrollIntoView({ block: 'start' });
  saveDraftSoon();
}

async function removeKeyframe(index: number): Promise<void> {
  const slot = strip.slots[index];
  const drawn = index === strip.active ? editor?.canUndo : slot.edits !== null;
  if (drawn && !confirm(`Remove the keyframe at ${slot.time.toFixed(2)} s and its drawing?`)) return;
  const wasShown = index === strip.active;
  strip.remove(index);
  if (wasShown) await showFrame(0, false);
  settings.setKeyframes(strip.keyframes.map((k) => k.time));
  saveDraftSoon();
}

/** The frames as sent: the one in the editor as drawn, the others composed from their source frame and additions. */
async function framesToSend(u: Upload, e: FrameEditor): Promise<{ frame: Blob; keyframes: { time: number; image: Blob }[]; marks: MarkImages }> {
  await keepActiveEdits();
  const marks = await markImages(strip.slots[0].marks ?? [], u.video.width, u.video.height);
  const image = (i: number) => (strip.slots[i] === shown ? e.toBlob() : composite(frameUrl(u, strip.slots[i].time), strip.slots[i].edits));
  const [frame, ...rest] = await Promise.all(strip.slots.map((_, i) => image(i)));
  return { frame, keyframes: rest.map((blob, n) => ({ time: strip.slots[n + 1].time, image: blob })), marks };
}

/** A line under the upload box: what the page did on its own (restored a draft) or why an action failed. */
function note(text: string, error = false): void {
  const line = $('upload-error');
  line.textContent = text;
  line.classList.toggle('error', error);
  line.classList.toggle('muted', !error);
  show(line, true);
}

// --- 2. editor ---------------------------------------------------------------------------------------------------

async function openEditor(frameUrl: string): Promise<void> {
  const image = await loadImage(frameUrl);
  editor?.destroy();
  editor = new FrameEditor($<HTMLDivElement>('canvas-host'), image);
  show($('editor-panel'), true);
  editor.onChange = updateToolbar;
  editor.onEdit = () => {
    saveDraftSoon();
    checkRegion();
  };
  editor.onColorPicked = (hex) => {
    $<HTMLInputElement>('color').value = hex;
  };
  editor.color = $<HTMLInputElement>('color').value;
  editor.size = Number($<HTMLInputElement>('brush-size').value);
  editor.setTool('brush');
  fit();
  updateToolbar();
}

function fit(): void {
  const scroller = $('canvas-scroller');
  editor?.fitTo({ width: scroller.clientWidth - 16, height: Math.max(240, window.innerHeight * 0.6) });
}

function updateToolbar(): void {
  if (!editor) return;
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tools button')) b.classList.toggle('active', b.dataset.tool === editor.tool);
  $<HTMLButtonElement>('undo').disabled = !editor.canUndo;
  $<HTMLButtonElement>('redo').disabled = !editor.canRedo;
  $<HTMLButtonElement>('delete-layer').disabled = !editor.selected;
  $('zoom-label').textContent = `${Math.round(editor.zoom * 100)}%`;
  const hint = $('editor-hint');
  if (!hint.classList.contains('error')) hint.textContent = editor.tool.startsWith('mark-') ? MARK_HINT : TOOL_HINT;
}

const TOOL_HINT = 'Brush and text use the colour; the eraser brings back the original pixels.';
const MARK_HINT = 'Region + paints over what may change (it joins the tinted region); Protect paints over what must stay exactly as in the video. Marks are not part of the frame; Undo takes them back.';

function wireEditor(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tools button')) {
    b.addEventListener('click', () => {
      editor?.setTool(b.dataset.tool as Tool);
      updateToolbar();
    });
  }
  $<HTMLInputElement>('color').addEventListener('input', (e) => editor && (editor.color = (e.target as HTMLInputElement).value));
  $<HTMLInputElement>('brush-size').addEventListener('input', (e) => editor && (editor.size = Number((e.target as HTMLInputElement).value)));
  $<HTMLInputElement>('recolour').addEventListener('change', (e) => editor && (editor.recolour = (e.target as HTMLInputElement).checked));
  $<HTMLInputElement>('text-value').addEventListener('input', (e) => editor && (editor.text = (e.target as HTMLInputElement).value));
  $('undo').addEventListener('click', () => editor?.undo());
  $('redo').addEventListener('click', () => editor?.redo());
  $('delete-layer').addEventListener('click', () => editor?.deleteSelected());
  $('zoom-in').addEventListener('click', () => editor?.setZoom(editor.zoom * 1.25));
  $('zoom-out').addEventListener('click', () => editor?.setZoom(editor.zoom / 1.25));
  $('zoom-fit').addEventListener('click', fit);
  $('show-region').addEventListener('change', () => {
    const overlay = document.querySelector<HTMLCanvasElement>('canvas.region-overlay');
    if (overlay) overlay.hidden = !$<HTMLInputElement>('show-region').checked;
  });
  // The wheel over the frame zooms (as in image editors); the page scrolls elsewhere.
  $('canvas-host').addEventListener('wheel', (e) => {
    if (!editor) return;
    e.preventDefault();
    editor.setZoom(editor.zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
    updateToolbar();
  }, { passive: false });
  wirePinch();

  const insert = $<HTMLInputElement>('insert-image');
  insert.addEventListener('change', () => {
    const file = insert.files?.[0];
    if (file) void insertFile(file);
    insert.value = '';
  });
  document.addEventListener('paste', (e) => {
    const item = [...(e.clipboardData?.items ?? [])].find((i) => i.type.startsWith('image/'));
    const file = item?.getAsFile();
    if (file && editor) {
      e.preventDefault();
      void insertFile(file);
    }
  });
  $('download-frame').addEventListener('click', () => void downloadFrame());
  const replace = $<HTMLInputElement>('upload-frame');
  replace.addEventListener('change', () => {
    const file = replace.files?.[0];
    if (file) void placeFrame(file);
    replace.value = '';
  });
  document.addEventListener('keydown', (e) => {
    if (!editor || (e.target as HTMLElement).closest('input, select, textarea')) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === 'z') {
      e.preventDefault();
      if (e.shiftKey) editor.redo();
      else editor.undo();
    } else if ((e.ctrlKey || e.metaKey) && key === 'y') {
      e.preventDefault();
      editor.redo();
    } else if (key === 'delete' || key === 'backspace') {
      editor.deleteSelected();
    } else if (!e.ctrlKey && !e.metaKey) {
      const tool = ({ v: 'move', b: 'brush', e: 'eraser', f: 'fill', i: 'picker', t: 'text', r: 'mark-add', p: 'mark-keep' } as Record<string, Tool>)[key];
      if (tool && (strip.active === 0 || !tool.startsWith('mark-'))) {
        editor.setTool(tool);
        updateToolbar();
      }
    }
  });
}

/**
 * Two fingers pinch-zoom the frame. Listened in the capture phase, before the editor sees the second finger: the
 * stroke the first finger began is dropped, and nothing draws until both fingers are lifted.
 */
function wirePinch(): void {
  const host = $('canvas-host');
  const touches = new Map<number, { x: number; y: number }>();
  let start: { distance: number; zoom: number } | null = null;
  const distance = (): number => {
    const [a, b] = [...touches.values()];
    return Math.hypot(a.x - b.x, a.y - b.y);
  };
  host.addEventListener('pointerdown', (e) => {
    if (e.pointerType !== 'touch' || !editor) return;
    touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (touches.size === 2) {
      editor.suspend(true);
      start = { distance: distance(), zoom: editor.zoom };
    }
  }, { capture: true });
  host.addEventListener('pointermove', (e) => {
    if (!touches.has(e.pointerId)) return;
    touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (start && touches.size === 2 && editor && start.distance > 0) {
      editor.setZoom(start.zoom * (distance() / start.distance));
      updateToolbar();
    }
  }, { capture: true });
  const lift = (e: PointerEvent): void => {
    touches.delete(e.pointerId);
    if (touches.size < 2) start = null;
    if (touches.size === 0) editor?.suspend(false);
  };
  host.addEventListener('pointerup', lift, { capture: true });
  host.addEventListener('pointercancel', lift, { capture: true });
}

async function insertFile(file: File): Promise<void> {
  if (!editor) return;
  const url = URL.createObjectURL(file);
  try {
    editor.insertImage(await loadImage(url));
    updateToolbar();
  } catch (err) {
    alertError((err as Error).message);
  }
}

async function placeFrame(file: File): Promise<void> {
  if (!editor) return;
  const image = await loadImage(URL.createObjectURL(file));
  if (Math.abs(image.naturalWidth / image.naturalHeight - editor.width / editor.height) > 0.01 * (editor.width / editor.height)) {
    alertError(`the frame is ${image.naturalWidth}×${image.naturalHeight} but the video is ${editor.width}×${editor.height}: export it at the video's size`);
    return;
  }
  editor.placeFrame(image);
}

async function downloadFrame(): Promise<void> {
  if (!editor || !upload) return;
  const blob = await editor.toBlob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${upload.video.name.replace(/\.[^.]*$/, '')}-frame1.png`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function alertError(message: string): void {
  const hint = $('editor-hint');
  hint.textContent = message;
  hint.classList.add('error');
  setTimeout(() => {
    hint.textContent = editor?.tool.startsWith('mark-') ? MARK_HINT : TOOL_HINT;
    hint.classList.remove('error');
  }, 6000);
}

// --- 3. run ------------------------------------------------------------------------------------------------------

function wireRun(): void {
  $('settings-form').addEventListener('input', (e) => {
    saveDraftSoon();
    if ((e.target as HTMLElement).id === 'opt-start') startChanged();
  });
  $('variation').addEventListener('click', () => {
    settings.newVariation();
    void run();
  });
  $('settings-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
}

async function run(): Promise<void> {
  const error = $('run-error');
  show(error, false);
  if (!editor || !upload) return;
  if (document.body.dataset.online === 'false') {
    error.textContent = 'the server cannot be reached: rendering resumes when it is back (your drawing is kept)';
    show(error, true);
    return;
  }
  const button = $<HTMLButtonElement>('run');
  button.disabled = true;
  try {
    const { frame, keyframes, marks } = await framesToSend(upload, editor);
    const created = await api.createJob(upload.id, frame, settings.values(), { keyframes, marks });
    await follow(created.id);
  } catch (err) {
    error.textContent = (err as Error).message;
    show(error, true);
  } finally {
    button.disabled = false;
  }
}

// Leaving with an unsaved drawing asks first.
window.addEventListener('beforeunload', (e) => {
  if (editor?.canUndo) e.preventDefault();
});

void init();
