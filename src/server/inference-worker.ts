/**
 * The inference thread: loads the model once, then runs one edit at a time through `editVideo`. ONNX Runtime's
 * runs block their thread, so they happen here and the server's event loop keeps answering.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isUserFacing } from '../cli/errors.js';
import { explainRuntimeError } from '../cli/edit.js';
import { editVideo } from '../edit/edit-video.js';
import { loadSvd, type SvdModel } from '../models/svd.js';
import type { FromWorker, ToWorker, WorkerConfig } from './worker-protocol.js';

const port = parentPort!;
const config = workerData as WorkerConfig;
const send = (m: FromWorker) => port.postMessage(m);
const running = new Map<string, AbortController>();

let model: SvdModel;
try {
  model = await loadSvd(config.model, {
    device: config.device, dtype: config.dtype, threads: config.threads, cacheDir: config.cacheDir,
    hub: { onProgress: (p) => send({ type: 'loading', progress: { stage: 'download', step: Math.round(p.bytes / 1e6), total: Math.round(p.totalBytes / 1e6), unit: 'MB' } }) },
  });
  send({ type: 'ready', folder: model.folder, device: model.device, dtype: model.dtype });
} catch (err) {
  send({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) });
  process.exit(0);
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') running.get(m.id)?.abort();
  else void run(m.id, m.edit);
});

async function run(id: string, edit: Extract<ToWorker, { type: 'run' }>['edit']): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const result = await editVideo({ ...edit, signal: controller.signal }, {
      model,
      onProgress: (progress) => send({ type: 'progress', id, progress }),
      onWarning: (message) => send({ type: 'warning', id, message }),
    });
    send({ type: 'done', id, result: { frames: result.frames, fps: result.fps, width: result.width, height: result.height,
      processing: result.processing, blocks: result.blocks.length, audio: result.audio, timings_ms: result.timings } });
  } catch (err) {
    const explained = explainRuntimeError(err);
    const message = explained instanceof Error ? explained.message : String(explained);
    send({ type: 'failed', id, cancelled: controller.signal.aborted, message: isUserFacing(explained) ? message : `internal error: ${message}` });
  } finally {
    running.delete(id);
  }
}
