/** Messages between the server (or a `videoshop worker`) and its inference worker processes. */
import type { EditProgress, EditRequest, MeasuredPace, MessagePart, ModelGeometry, SerializedError } from '../edit/index.js';

export interface WorkerConfig {
  model: string;
  /**
   * `serve --unet` / `worker --unet`: a .safetensors file replacing the model's UNet weights, chosen by whoever starts
   * the server (a local path or a Hub org/name/file); a job can never choose one (server paths stay the operator's).
   */
  unet?: string;
  device: 'cpu' | 'cuda' | 'webgpu';
  dtype?: 'float32' | 'float16';
  threads?: number;
  cacheDir?: string;
  /** Run a short test edit after loading, so a time can be estimated before the first job (edit/calibrate.ts). */
  calibrate?: boolean;
  /** Where the test edit writes its clip (the server's data folder, cleaned at every start), default the system's. */
  tempDir?: string;
}

/** What a finished job reports: the edit's numbers, in the API's spelling (a pace for estimates: src/edit/estimate.ts). */
export interface JobResult {
  frames: number;
  fps: number;
  width: number;
  height: number;
  processing: { width: number; height: number };
  blocks: number;
  unet_calls: number;
  steps: number;
  strength: number;
  audio: string;
  timings_ms: Record<string, number>;
  [key: string]: unknown;
}

export type ToWorker =
  | { type: 'run'; id: string; request: Omit<EditRequest, 'signal'> }
  | { type: 'cancel'; id: string }
  /** Stop what runs (the test edit too), clean up, exit. */
  | { type: 'stop' };

export type FromWorker =
  | { type: 'loading'; progress: EditProgress }
  | { type: 'ready'; folder: string; device: string; dtype: string; geometry: ModelGeometry }
  | { type: 'load-failed'; error: SerializedError }
  | { type: 'calibrated'; pace: MeasuredPace }
  | { type: 'calibration-failed'; message: string }
  | { type: 'progress'; id: string; progress: EditProgress }
  | { type: 'warning'; id: string; parts: MessagePart[] }
  | { type: 'done'; id: string; result: JobResult }
  | { type: 'failed'; id: string; error: SerializedError; cancelled: boolean };
