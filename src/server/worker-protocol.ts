/** Messages between the server and its inference worker threads. */
import type { MeasuredPace } from '../edit/calibrate.js';
import type { EditOptions } from '../edit/options.js';
import type { EditProgress } from '../edit/edit-video.js';
import type { Device } from '../runtime/session.js';

export interface WorkerConfig {
  model: string;
  device: Device;
  dtype?: 'float32' | 'float16';
  threads?: number;
  cacheDir?: string;
  /** Run a short test edit after loading, so a time can be estimated before the first job (edit/calibrate.ts). */
  calibrate?: boolean;
}

export type ToWorker =
  | { type: 'run'; id: string; edit: Omit<EditOptions, 'signal'> }
  | { type: 'cancel'; id: string };

export type FromWorker =
  | { type: 'loading'; progress: EditProgress }
  | { type: 'ready'; folder: string; device: string; dtype: string }
  | { type: 'load-failed'; message: string }
  | { type: 'calibrated'; pace: MeasuredPace }
  | { type: 'calibration-failed'; message: string }
  | { type: 'progress'; id: string; progress: EditProgress }
  | { type: 'warning'; id: string; message: string }
  | { type: 'done'; id: string; result: Record<string, unknown> }
  | { type: 'failed'; id: string; message: string; cancelled: boolean };
