/**
 * diffusers' Attention as the VAE mid blocks use it on feature maps (AttnProcessor2_0 with a 4-D input):
 * GroupNorm, then self-attention over the H·W positions of each image, to_out, plus the input (residual_connection),
 * divided by rescale_output_factor.
 *
 * Public API:
 *   spatialSelfAttention(g, x, prefix, { groups, eps, heads?, rescaleOutputFactor?, impl? })  x [N, C, H, W] → same.
 *       Weights `${prefix}.group_norm`, `.to_q`, `.to_k`, `.to_v`, `.to_out.0`; heads default 1 (head_dim = C);
 *       impl: nn.attention's implementation ('matmul' default, or the fused com.microsoft 'mha').
 */
import type { Graph, Value } from '../../onnx/graph.js';
import { attention, groupNorm, linear, shapeOf, type AttentionOptions } from '../../onnx/nn.js';

export interface SpatialSelfAttentionOptions {
  groups: number;
  eps: number;
  heads?: number;
  rescaleOutputFactor?: number;
  impl?: AttentionOptions['impl'];
}

export function spatialSelfAttention(g: Graph, x: Value, prefix: string, o: SpatialSelfAttentionOptions): Value {
  const channels = g.weightShape(`${prefix}.to_q.weight`)[0];
  const heads = o.heads ?? 1;
  if (channels % heads !== 0) throw new Error(`${prefix}: ${channels} channels do not split into ${heads} heads`);
  // GroupNorm over [N, C, H·W] equals GroupNorm over [N, C, H, W]: normalize first, flatten after.
  const n = groupNorm(g, x, `${prefix}.group_norm`, o.groups, o.eps);
  const flat = g.op('Reshape', [n, g.constant([0, channels, -1], [3], 'int64')]); // [N, C, HW]
  const tokens = g.op('Transpose', [flat], { perm: [0, 2, 1] }); // [N, HW, C]
  const q = linear(g, tokens, `${prefix}.to_q`);
  const k = linear(g, tokens, `${prefix}.to_k`);
  const v = linear(g, tokens, `${prefix}.to_v`);
  const a = linear(g, attention(g, q, k, v, heads, channels / heads, { impl: o.impl }), `${prefix}.to_out.0`);
  const back = g.op('Reshape', [g.op('Transpose', [a], { perm: [0, 2, 1] }), shapeOf(g, x)]);
  let out = g.op('Add', [back, x]);
  const scale = o.rescaleOutputFactor ?? 1;
  if (scale !== 1) out = g.op('Div', [out, g.constant([scale], [1])]);
  return out;
}
