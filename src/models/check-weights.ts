/**
 * Before any graph is built: every weight the architecture needs is in the files, with the shape the config implies
 * and a float dtype. A wrong checkpoint (another model's, a truncated conversion) fails here with one line naming the
 * file and the weight, instead of a stack trace from graph building or from ONNX Runtime.
 */
import path from 'node:path';
import { SafetensorsError, type WeightStore } from '../safetensors/read.js';
import type { WeightShape } from './weight-shapes.js';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

export function checkWeights(store: WeightStore, expected: readonly WeightShape[], configFile: string): void {
  for (const { name, shape } of expected) {
    if (!store.has(name)) {
      throw new SafetensorsError(`${store.source}: weight "${name}" is missing (the weights do not match ${path.basename(path.dirname(configFile))}/${path.basename(configFile)}): download the model again`);
    }
    const info = store.info(name);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new SafetensorsError(`${info.file}: weight "${name}" has shape [${info.shape.join(', ')}] but the config implies [${shape.join(', ')}]: the weights and config.json do not belong together`);
    }
    if (!FLOAT_DTYPES.has(info.dtype)) {
      throw new SafetensorsError(`${info.file}: weight "${name}" has dtype ${info.dtype}; weights must be F32, F16 or BF16`);
    }
  }
}
