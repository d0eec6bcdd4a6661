/** What loadUnet, loadVae and loadClip share: where the network runs, in what precision, from which weight files. */
import type { AttentionOptions } from '../onnx/nn.js';
import type { Device } from '../runtime/session.js';

export type AttentionKernel = NonNullable<AttentionOptions['impl']>;

/**
 * The attention kernel a loader uses when `attention` is not given, on every device: 'mha', the com.microsoft
 * MultiHeadAttention contrib op. It keeps memory linear in tokens, where the plain ops hold [B·F, heads, L, L] scores
 * (~47 GB for SVD's UNet at 576×1024; on a tiny UNet at 64×64 latents on cpu, 215 MB peak RSS against 1.8 GB, and 30%
 * faster). loadSvd uses it for all three networks, WebGPU included (see docs/webgpu.md for SwiftShader's 4-lane
 * subgroups, which break its flash kernel from 32 tokens on; real GPUs have 8 to 64 lanes).
 */
export const DEFAULT_ATTENTION: AttentionKernel = 'mha';

export interface ModelLoadOptions {
  /** Default 'cpu'. */
  device?: Device;
  /** Compute type inside the graph (default float32). float16 halves memory and suits GPUs; inputs/outputs stay float32. */
  dtype?: 'float32' | 'float16';
  /** Weight file variant, e.g. 'fp16' for diffusion_pytorch_model.fp16.safetensors (model.fp16.safetensors for CLIP). */
  variant?: string;
  /**
   * Attention kernel (default DEFAULT_ATTENTION, 'mha'): 'mha', the fused com.microsoft MultiHeadAttention op, or
   * 'matmul', plain Reshape/Transpose/MatMul/Softmax (see AttentionOptions in src/onnx/nn.ts).
   */
  attention?: AttentionKernel;
  /** Where built ONNX graphs are cached. */
  cacheDir?: string;
  /** ONNX Runtime intra-op threads. */
  threads?: number;
}
