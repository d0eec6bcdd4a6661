/** The Videoshop page: upload → edit the first frame → settings → render (live progress) → compare and download. */
import { api, type Upload } from './api.js';
import { Compare } from './compare.js';
import { $, loadImage, show } from './dom.js';
import { FrameEditor, type Tool } from './editor.js';
import { mb } from './format.js';
import { JobList } from './jobs.js';
import { Settings } from './settings.js';

let upload: Upload | null = null;
let editor: FrameEditor | null = null;
let maxUpload = Infinity;
const settings = new Settings();
const jobs = new JobList();
const compare = new Compare();
jobs.onOpen = (job) => compare.open(job);

async function init(): Promise<void> {
  await refreshHealth();
  setInterval(() => void refreshHealth(), 5000);
  await Promise.all([settings.init(), jobs.load()]);
  wireUpload();
  wireEditor();
  wireRun();
  document.body.dataset.ready = 'true';
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
  } catch {
    pill.textContent = 'server unreachable';
    pill.dataset.state = 'failed';
  }
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
}

async function sendVideo(file: File): Promise<void> {
  const error = $('upload-error');
  show(error, false);
  if (file.size > maxUpload) {
    error.textContent = `${file.name} is ${mb(file.size)}: the limit is ${mb(maxUpload)}`;
    show(error, true);
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
    error.textContent = (err as Error).message;
    show(error, true);
    return;
  }
  show(box, false);
  const v = upload.video;
  $<HTMLVideoElement>('preview-video').src = upload.video_url;
  $('preview-info').textContent = `${v.name} · ${v.width}×${v.height} · ${v.frames} frames · ${v.fps.toFixed(2).replace(/\.?0+$/, '')} fps · ${v.duration_s.toFixed(1)} s · ${mb(v.bytes)}`;
  show($('preview'), true);
  await openEditor(upload.frame_url);
  settings.setVideo(v);
  show($('settings-panel'), true);
}

// --- 2. editor ---------------------------------------------------------------------------------------------------

async function openEditor(frameUrl: string): Promise<void> {
  const image = await loadImage(frameUrl);
  editor?.destroy();
  editor = new FrameEditor($<HTMLDivElement>('canvas-host'), image);
  show($('editor-panel'), true);
  editor.onChange = updateToolbar;
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
}

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
  $('canvas-scroller').addEventListener('wheel', (e) => {
    if (!editor || !(e.ctrlKey || e.metaKey)) return;
    e.preventDefault();
    editor.setZoom(editor.zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });

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
      const tool = ({ v: 'move', b: 'brush', e: 'eraser', f: 'fill', i: 'picker', t: 'text' } as Record<string, Tool>)[key];
      if (tool) {
        editor.setTool(tool);
        updateToolbar();
      }
    }
  });
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
    hint.textContent = 'Brush and text use the colour; the eraser brings back the original pixels.';
    hint.classList.remove('error');
  }, 6000);
}

// --- 3. run ------------------------------------------------------------------------------------------------------

function wireRun(): void {
  $('settings-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
}

async function run(): Promise<void> {
  const error = $('run-error');
  show(error, false);
  if (!editor || !upload) return;
  const button = $<HTMLButtonElement>('run');
  button.disabled = true;
  try {
    const created = await api.createJob(upload.id, await editor.toBlob(), settings.values());
    jobs.upsert(await api.job(created.id));
  } catch (err) {
    error.textContent = (err as Error).message;
    show(error, true);
  } finally {
    button.disabled = false;
  }
}

void init();
