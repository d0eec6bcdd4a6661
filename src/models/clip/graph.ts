/**
 * transformers' CLIPVisionModelWithProjection as an ONNX graph: pixel_values [B, C, S, S] (already preprocessed) →
 * image_embeds [B, projection_dim]. The batch is dynamic so several images embed in one run.
 */
import { ELEM_TYPES, Graph, type Value } from '../../onnx/graph.js';
import { type AttentionOptions, attention, conv2d, dim, gelu, layerNorm, linear, quickGelu, reshape } from '../../onnx/nn.js';
import type { WeightStore } from '../../safetensors/read.js';
import { type ClipVisionConfig, headDim } from './config.js';
import { CLIP_PREFIX, clipLayerPrefix, clipWeightShapes } from './weights.js';

export interface ClipGraphOptions {
  /** Arithmetic precision inside the graph; inputs and outputs stay float32. Default float32. */
  computeType?: 'float32' | 'float16';
  /** Attention kernel: 'mha' (ORT's fused com.microsoft MultiHeadAttention; nn.ts's default) or 'matmul' (plain ops). */
  attention?: AttentionOptions['impl'];
}

export const CLIP_INPUT = 'pixel_values';
export const CLIP_OUTPUT = 'image_embeds';

function activation(g: Graph, x: Value, c: ClipVisionConfig): Value {
  switch (c.hiddenAct) {
    case 'gelu':
      return gelu(g, x, 'none');
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return gelu(g, x, 'tanh');
    case 'quick_gelu':
      return quickGelu(g, x);
  }
}

/** Patch conv (no bias), class token in front, learned absolute positions added: [B, C, S, S] → [B, 1 + n², hidden]. */
function embeddings(g: Graph, pixels: Value, c: ClipVisionConfig): Value {
  const p = `${CLIP_PREFIX}.embeddings`;
  const patches = conv2d(g, pixels, `${p}.patch_embedding`, { stride: c.patchSize, padding: 0 }); // [B, hidden, n, n]
  const tokens = g.op('Transpose', [reshape(g, patches, [0, c.hiddenSize, -1])], { perm: [0, 2, 1] }); // [B, n², hidden]
  const batch = dim(g, pixels, 0);
  const cls = g.op('Expand', [
    reshape(g, g.weight(`${p}.class_embedding`), [1, 1, c.hiddenSize]),
    g.op('Concat', [batch, g.constant([1, c.hiddenSize], [2], 'int64')], { axis: 0 }),
  ]);
  const seq = g.op('Concat', [cls, tokens], { axis: 1 });
  return g.op('Add', [seq, g.weight(`${p}.position_embedding.weight`)]);
}

/** Pre-norm transformer layer: x + attn(LN1(x)), then + MLP(LN2(x)). */
function encoderLayer(g: Graph, x: Value, c: ClipVisionConfig, layer: number, impl: AttentionOptions['impl']): Value {
  const p = clipLayerPrefix(layer);
  const h = layerNorm(g, x, `${p}.layer_norm1`, c.layerNormEps);
  const q = linear(g, h, `${p}.self_attn.q_proj`);
  const k = linear(g, h, `${p}.self_attn.k_proj`);
  const v = linear(g, h, `${p}.self_attn.v_proj`);
  const attn = linear(g, attention(g, q, k, v, c.numAttentionHeads, headDim(c), { impl }), `${p}.self_attn.out_proj`);
  const mid = g.op('Add', [x, attn]);
  const m = linear(g, activation(g, linear(g, layerNorm(g, mid, `${p}.layer_norm2`, c.layerNormEps), `${p}.mlp.fc1`), c),
    `${p}.mlp.fc2`);
  return g.op('Add', [mid, m]);
}

export function buildClipGraph(c: ClipVisionConfig, weights: WeightStore, opts: ClipGraphOptions = {}): Graph {
  const computeType = opts.computeType ?? 'float32';
  const g = new Graph({ name: 'clip_vision_with_projection', weights, computeType });
  // Check every parameter up front, so a wrong checkpoint fails with the weight's name rather than deep inside ORT.
  for (const { name, shape } of clipWeightShapes(c)) g.weight(name, shape);

  const input = g.input(CLIP_INPUT, 'float32', ['batch', c.numChannels, c.imageSize, c.imageSize]);
  let x = computeType === 'float32' ? input : g.op('Cast', [input], { to: ELEM_TYPES[computeType] });
  x = layerNorm(g, embeddings(g, x, c), `${CLIP_PREFIX}.pre_layrnorm`, c.layerNormEps); // sic: transformers' spelling
  for (let i = 0; i < c.numHiddenLayers; i++) x = encoderLayer(g, x, c, i, opts.attention);
  const cls = g.op('Gather', [x, g.constant([0], [], 'int64')], { axis: 1 }); // [B, hidden]: the class token
  let embeds = linear(g, layerNorm(g, cls, `${CLIP_PREFIX}.post_layernorm`, c.layerNormEps), 'visual_projection');
  if (computeType !== 'float32') embeds = g.op('Cast', [embeds], { to: ELEM_TYPES.float32 });
  g.output(embeds, CLIP_OUTPUT, 'float32', ['batch', c.projectionDim]);
  return g;
}
