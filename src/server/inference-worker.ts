/**
 * The inference process: loads the model once, then runs the edits it is sent through `editVideo`. ONNX Runtime's
 * runs block their thread, so they happen here and the server's event loop keeps answering. A child process rather
 * than a worker thread: terminating a thread inside an ONNX Runtime call aborts the whole server (measured:
 * "terminate called after throwing an instance of 'Napi::Error'"), while a process can be killed safely, and a crash
 * in native code takes only this process down.
 */
import {
  editVideo, isVideoshopError, loadModel, measurePace, type EditModel, type EditRequest, type SerializedError,
} from '../edit/index.js';
import type { FromWorker, ToWorker, WorkerConfig } from './worker-protocol.js';

const config = JSON.parse(process.env.VIDEOSHOP_WORKER_CONFIG ?? '{}') as WorkerConfig;
// To a server that has gone (its channel closed) nothing is sent: the callback takes the error that would otherwise
// crash this process with a stack trace on the server's stderr; 'disconnect' below ends it.
const send = (m: FromWorker) => { if (process.connected) process.send?.(m, undefined, undefined, () => {}); };
const running = new Map<string, AbortController>();
const calibration = new AbortController();
const jobs = new Set<Promise<void>>();
let calibrated: Promise<void> = Promise.resolve();
let stopping: Promise<void> | null = null;

/** Ends this process once what runs has stopped and cleaned up its files (at most a few seconds: the server kills after). */
function stop(): Promise<void> {
  stopping ??= (async () => {
    calibration.abort();
    for (const c of running.values()) c.abort();
    await Promise.allSettled([calibrated, ...jobs]);
    process.exit(0);
  })();
  return stopping;
}

// The server went away (even by SIGKILL): so does its worker, after cleaning up.
process.on('disconnect', () => void stop());

/** Anything a user can act on keeps its code and words; anything else is a bug, said as one line. */
function serialize(err: unknown): SerializedError {
  if (isVideoshopError(err)) return err.toJSON();
  return { code: 'internal', message: `internal error: ${err instanceof Error ? err.message : String(err)}` };
}

let model: EditModel;
try {
  model = await loadModel(config.model, {
    unet: config.unet, device: config.device, dtype: config.dtype, threads: config.threads, cacheDir: config.cacheDir,
    onProgress: (progress) => send({ type: 'loading', progress }),
  });
  send({ type: 'ready', folder: model.folder, device: model.device, dtype: model.dtype,
    geometry: { nativeArea: model.nativeArea, sizeMultiple: model.sizeMultiple, numFrames: model.numFrames } });
} catch (err) {
  send({ type: 'load-failed', error: serialize(err) });
  process.disconnect?.();
  process.exit(0);
}

// The test edit that gives a first estimate; a job that arrives meanwhile stops it (the job's own pace is better),
// and every job waits for it to be over, since two edits must not interleave their network calls.
calibrated = config.calibrate === false ? Promise.resolve()
  : measurePace(model, { signal: calibration.signal, dir: config.tempDir })
    .then((pace) => { send({ type: 'calibrated', pace }); })
    .catch((err: unknown) => {
      if (!calibration.signal.aborted) send({ type: 'calibration-failed', message: err instanceof Error ? err.message : String(err) });
    });

process.on('message', (m: ToWorker) => {
  if (m.type === 'stop') void stop();
  else if (m.type === 'cancel') running.get(m.id)?.abort();
  else if (!stopping) {
    calibration.abort();
    // Registered at once, so a cancel that comes while the test edit winds down is not lost.
    const controller = new AbortController();
    running.set(m.id, controller);
    const job = calibrated.then(() => run(m.id, m.request, controller));
    jobs.add(job);
    void job.finally(() => jobs.delete(job));
  }
});

async function run(id: string, request: Omit<EditRequest, 'signal'>, controller: AbortController): Promise<void> {
  try {
    const result = await editVideo(request as EditRequest, {
      model, signal: controller.signal,
      onProgress: (progress) => send({ type: 'progress', id, progress }),
      onWarning: (_message, w) => send({ type: 'warning', id, parts: [...w.parts] }),
    });
    send({ type: 'done', id, result: { frames: result.frames, fps: result.fps, width: result.width, height: result.height,
      processing: result.processing, blocks: result.blocks.length, unet_calls: result.unetCalls, audio: result.audio,
      steps: result.steps, strength: result.strength, timings_ms: result.timings } });
  } catch (err) {
    send({ type: 'failed', id, cancelled: controller.signal.aborted, error: serialize(err) });
  } finally {
    running.delete(id);
  }
}
