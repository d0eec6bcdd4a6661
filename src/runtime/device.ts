/**
 * Is the execution provider usable, before anything is downloaded or loaded? A several-GB download that ends in
 * "CUDA provider not installed" is the worst first contact, so `loadSvd` asks this first: the provider's files must be
 * there (checkDevice) and a one-op session must start on it (a GPU adapter / driver is present, float16 shaders where
 * float16 compute is asked for). It costs one tiny session (well under a second on a real GPU).
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { Graph } from '../onnx/graph.js';
import { VideoshopError } from '../util/errors.js';
import { checkDevice, explainDeviceFailure, type Device } from './session.js';

/** The device cannot run here (code `device_unavailable`); the message says what to install or choose instead. */
function deviceError(message: string): VideoshopError {
  return new VideoshopError('device_unavailable', message, { field: 'device' });
}

const ready = new Set<string>();

export async function assertDeviceReady(device: Device, dtype: 'float32' | 'float16' = 'float32'): Promise<void> {
  if (device === 'cpu' || ready.has(`${device}/${dtype}`)) return;
  try {
    checkDevice(device);
  } catch (e) {
    throw deviceError((e as Error).message);
  }
  if (device === 'webgpu' && process.platform === 'linux' && !hasVulkanDriver()) {
    // Dawn would print several lines of Vulkan warnings before failing: say it in one, with the fix.
    throw deviceError('WebGPU needs a Vulkan driver and none is installed (no ICD file in /usr/share/vulkan/icd.d or ' +
      '/etc/vulkan/icd.d, VK_DRIVER_FILES unset): install your GPU\'s Vulkan driver (Mesa: mesa-vulkan-drivers; NVIDIA: its driver), ' +
      'or run on the CPU; to test without a GPU, `. scripts/webgpu-env.sh` selects SwiftShader');
  }
  const g = new Graph({ name: 'device-probe' });
  const x = g.input('x', dtype, [4]);
  g.output(g.op('Add', [x, x]), 'y', dtype, [4]);
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(g.serialize('.'), { executionProviders: [device], logSeverityLevel: 3 });
    const data = dtype === 'float16' ? new Uint16Array(4).fill(0x3c00) : new Float32Array(4).fill(1);
    await session.run({ x: new ort.Tensor(dtype, data, [4]) });
  } catch (e) {
    throw deviceError(explainDeviceFailure(device, e).message);
  } finally {
    await session?.release();
  }
  ready.add(`${device}/${dtype}`);
}

/** Whether the Vulkan loader can find any driver (ICD manifest), where it looks on Linux. */
function hasVulkanDriver(): boolean {
  const listed = [process.env.VK_DRIVER_FILES, process.env.VK_ICD_FILENAMES, process.env.VK_ADD_DRIVER_FILES]
    .flatMap((v) => (v ? v.split(':') : []));
  if (listed.some((f) => f && existsSync(f))) return true;
  const dataDirs = (process.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  const dirs = ['/etc/vulkan/icd.d', path.join(homedir(), '.local/share/vulkan/icd.d'), ...dataDirs.map((d) => path.join(d, 'vulkan/icd.d'))];
  return dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}
