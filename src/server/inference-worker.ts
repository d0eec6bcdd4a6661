/**
 * The inference process: loads the model once, then runs the edits it is sent through `editVideo`. ONNX Runtime's
 * runs block their thread, so they happen here and the server's event loop keeps answering. A child process rather
 * than a worker thread: terminating a thread inside an ONNX Runtime call aborts the whole server (measured:
 * "terminate called after throwing an instance of 'Napi::Error'"), while a process can be killed safely, and a crash
 * in native code takes only this process down.
 */
import { isUserFacing } from '../cli/errors.js';
import { explainRuntimeError } from '../cli/edit.js';
import { measurePace } from '../edit/calibrate.js';
import { editVideo } from '../edit/edit-video.js';
import { loadSvd, type SvdModel } from '../models/svd.js';
import type { FromWorker, ToWorker, WorkerConfig } from './worker-protocol.js';

const config = JSON.parse(process.env.VIDEOSHOP_WORKER_CONFIG ?? '{}') as WorkerConfig;
// To a server that has gone (its channel closed) nothing is sent: the callback takes the error that would otherwise
// crash this process with a stack trace on the server's stderr; 'disconnect' below ends it.
const send = (m: FromWorker) => { if (process.connected) process.send?.(m, undefined, undefined, () => {}); };
// The server went away (even by SIGKILL): so does its worker.
process.on('disconnect', () => process.exit(0));
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
  process.disconnect?.();
  process.exit(0);
}

// The test edit that gives a first estimate; a job that arrives meanwhile stops it (the job's own pace is better),
// and every job waits for it to be over, since two edits must not interleave their network calls.
const calibration = new AbortController();
const calibrated: Promise<void> = config.calibrate === false ? Promise.resolve() : measurePace(model, { signal: calibration.signal })
  .then((pace) => { send({ type: 'calibrated', pace }); })
  .catch((err: unknown) => {
    if (!calibration.signal.aborted) send({ type: 'calibration-failed', message: err instanceof Error ? err.message : String(err) });
  });

process.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') running.get(m.id)?.abort();
  else {
    calibration.abort();
    // Registered at once, so a cancel that comes while the test edit winds down is not lost.
    const controller = new AbortController();
    running.set(m.id, controller);
    void calibrated.then(() => run(m.id, m.edit, controller));
  }
});

async function run(id: string, edit: Extract<ToWorker, { type: 'run' }>['edit'], controller: AbortController): Promise<void> {
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
