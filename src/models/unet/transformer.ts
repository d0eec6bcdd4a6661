/**
 * diffusers' TransformerSpatioTemporalModel (transformers/transformer_temporal.py) and its two block types
 * (attention.py: BasicTransformerBlock, TemporalBasicTransformerBlock), as SVD's UNet builds them: LayerNorm eps 1e-5,
 * bias-free q/k/v, GEGLU feed-forwards with 4× width, every block with cross-attention.
 *
 * Public API:
 *   transformerSpatioTemporal(g, x, plan, ctx)  x [B·F, C, H, W] → same: GroupNorm → proj_in → per layer a spatial block
 *       (attention over the H·W positions of each frame + cross-attention to the frame's context), then a temporal
 *       block (attention over the F frames at each position, after adding a sinusoidal frame-index embedding) blended
 *       with the spatial result by time_mixer → proj_out → + x.
 *   basicTransformerBlock / temporalBasicTransformerBlock: the blocks on token layouts (see their comments).
 */
import type { Graph, Value } from '../../onnx/graph.js';
import { attention, dim, gelu, groupNorm, layerNorm, linear, reshape, type AttentionOptions } from '../../onnx/nn.js';
import { alphaBlend } from '../blocks/spatiotemporal.js';
import { sinusoidalEmbedding, timestepEmbedding, toCompute } from './embeddings.js';
import { UNET_NORM_GROUPS } from './config.js';
import type { TransformerPlan } from './layout.js';

const LAYER_NORM_EPS = 1e-5;
const GROUP_NORM_EPS = 1e-6;

export interface TransformerContext {
  /** int64 [1]: frames per clip (F). */
  readonly numFrames: Value;
  /** [B, S, D]: encoder_hidden_states as given, one row per clip (diffusers repeats it per frame). */
  readonly encoderHiddenStates: Value;
  readonly attention?: AttentionOptions;
}

/** Keys and values of a cross-attention: one set per clip, [B, S, C] each. */
interface ClipKeysValues {
  readonly k: Value;
  readonly v: Value;
}

function clipKeysValues(g: Graph, context: Value, prefix: string): ClipKeysValues {
  return { k: linear(g, context, `${prefix}.to_k`), v: linear(g, context, `${prefix}.to_v`) };
}

/**
 * x [B, S, C] → [B·n, S, C], each row repeated n times in a row (torch's repeat_interleave on dim 0).
 * Projecting the per-clip context before repeating it costs n× less than diffusers' order, with equal results.
 */
function repeatRows(g: Graph, x: Value, n: Value): Value {
  const expanded = g.op('Expand', [
    g.op('Unsqueeze', [x, g.constant([1], [1], 'int64')]),
    g.op('Concat', [g.constant([1], [1], 'int64'), n, g.constant([1, 1], [2], 'int64')], { axis: 0 }),
  ]); // [B, n, S, C]
  return reshape(g, expanded, [-1, dim(g, x, 1), dim(g, x, 2)]);
}

/** diffusers Attention (AttnProcessor2_0): to_q(x), keys/values from x or given, SDPA with 1/√dh, to_out.0. */
function attend(g: Graph, x: Value, prefix: string, t: TransformerPlan, kv: ClipKeysValues | 'self',
  opts?: AttentionOptions): Value {
  const q = linear(g, x, `${prefix}.to_q`);
  const k = kv === 'self' ? linear(g, x, `${prefix}.to_k`) : kv.k;
  const v = kv === 'self' ? linear(g, x, `${prefix}.to_v`) : kv.v;
  return linear(g, attention(g, q, k, v, t.heads, t.headDim, opts), `${prefix}.to_out.0`);
}

/** FeedForward with GEGLU: net.0.proj to [value, gate], value · GELU(gate) (exact erf), then net.2. */
function feedForward(g: Graph, x: Value, prefix: string): Value {
  const [value, gate] = g.opMulti('Split', [linear(g, x, `${prefix}.net.0.proj`)], 2, { axis: -1 });
  return linear(g, g.op('Mul', [value, gelu(g, gate, 'none')]), `${prefix}.net.2`);
}

const add = (g: Graph, a: Value, b: Value): Value => g.op('Add', [a, b]);

/**
 * BasicTransformerBlock (norm_type "layer_norm", no ada-norm, no positional embedding):
 * x [N, L, C] → x + attn1(norm1 x) → + attn2(norm2 ·, context) → + ff(norm3 ·). `kv`: attn2's keys/values, [N, S, C].
 */
export function basicTransformerBlock(g: Graph, x: Value, prefix: string, t: TransformerPlan, kv: ClipKeysValues,
  opts?: AttentionOptions): Value {
  let h = add(g, x, attend(g, layerNorm(g, x, `${prefix}.norm1`, LAYER_NORM_EPS), `${prefix}.attn1`, t, 'self', opts));
  h = add(g, h, attend(g, layerNorm(g, h, `${prefix}.norm2`, LAYER_NORM_EPS), `${prefix}.attn2`, t, kv, opts));
  return add(g, h, feedForward(g, layerNorm(g, h, `${prefix}.norm3`, LAYER_NORM_EPS), `${prefix}.ff`));
}

/**
 * TemporalBasicTransformerBlock (time_mix_inner_dim = dim, so both residual paths are on):
 * x [B·L, F, C] (one sequence of frames per clip and position) → x + ff_in(norm_in x) → + attn1(norm1 ·)
 * → + attn2(norm2 ·, context) → + ff(norm3 ·). `kv`: attn2's keys/values, [B·L, S, C].
 */
export function temporalBasicTransformerBlock(g: Graph, x: Value, prefix: string, t: TransformerPlan,
  kv: ClipKeysValues, opts?: AttentionOptions): Value {
  let h = add(g, x, feedForward(g, layerNorm(g, x, `${prefix}.norm_in`, LAYER_NORM_EPS), `${prefix}.ff_in`));
  h = add(g, h, attend(g, layerNorm(g, h, `${prefix}.norm1`, LAYER_NORM_EPS), `${prefix}.attn1`, t, 'self', opts));
  h = add(g, h, attend(g, layerNorm(g, h, `${prefix}.norm2`, LAYER_NORM_EPS), `${prefix}.attn2`, t, kv, opts));
  return add(g, h, feedForward(g, layerNorm(g, h, `${prefix}.norm3`, LAYER_NORM_EPS), `${prefix}.ff`));
}

/** time_pos_embed(time_proj(0 … F−1)): [F, 1, C], the frame-index embedding added before each temporal block. */
function framePositionEmbedding(g: Graph, t: TransformerPlan, numFrames: Value): Value {
  const frames = g.op('Range', [
    g.constant([0], [], 'float32'),
    g.op('Cast', [g.op('Squeeze', [numFrames, g.constant([0], [1], 'int64')])], { to: 1 /* FLOAT */ }),
    g.constant([1], [], 'float32'),
  ]); // float32 [F]
  const sinusoid = toCompute(g, sinusoidalEmbedding(g, frames, t.channels, 0));
  const emb = timestepEmbedding(g, sinusoid, `${t.prefix}.time_pos_embed`); // [F, C]
  return g.op('Unsqueeze', [emb, g.constant([1], [1], 'int64')]);
}

export function transformerSpatioTemporal(g: Graph, x: Value, t: TransformerPlan, ctx: TransformerContext): Value {
  const p = t.prefix;
  const c = t.channels;
  const f = ctx.numFrames;
  const height = dim(g, x, 2);
  const width = dim(g, x, 3);
  const positions = g.op('Mul', [height, width]); // L = H·W, int64 [1]

  const normed = groupNorm(g, x, `${p}.norm`, UNET_NORM_GROUPS, GROUP_NORM_EPS);
  const tokens = reshape(g, g.op('Transpose', [normed], { perm: [0, 2, 3, 1] }), [0, -1, c]); // [B·F, L, C]
  let h = linear(g, tokens, `${p}.proj_in`);
  const framePos = framePositionEmbedding(g, t, f);

  for (let l = 0; l < t.layers; l++) {
    const sb = `${p}.transformer_blocks.${l}`;
    const tb = `${p}.temporal_transformer_blocks.${l}`;
    // Spatial block: every frame attends to its clip's context (diffusers' per-frame repeat of encoder states).
    const spatialKv = clipKeysValues(g, ctx.encoderHiddenStates, `${sb}.attn2`);
    const spatial = basicTransformerBlock(g, h, sb, t,
      { k: repeatRows(g, spatialKv.k, f), v: repeatRows(g, spatialKv.v, f) }, ctx.attention);

    // Temporal block on [B, F, L, C] + frame embedding, regrouped as [B·L, F, C]; its context is the first frame's
    // encoder states of each clip (all frames carry the same ones), repeated per position.
    const withPos = g.op('Add', [reshape(g, spatial, [-1, f, positions, c]), framePos]);
    const sequences = reshape(g, g.op('Transpose', [withPos], { perm: [0, 2, 1, 3] }), [-1, f, c]);
    const temporalKv = clipKeysValues(g, ctx.encoderHiddenStates, `${tb}.attn2`);
    const mixed = temporalBasicTransformerBlock(g, sequences, tb, t,
      { k: repeatRows(g, temporalKv.k, positions), v: repeatRows(g, temporalKv.v, positions) }, ctx.attention);
    const temporal = reshape(g, g.op('Transpose', [reshape(g, mixed, [-1, positions, f, c])], { perm: [0, 2, 1, 3] }),
      [-1, positions, c]); // [B·F, L, C]

    // image_only_indicator is all zeros in this UNet, so "learned_with_images" is sigmoid(mix_factor) everywhere.
    h = alphaBlend(g, spatial, temporal, `${p}.time_mixer`, {
      strategy: 'learned', switchSpatialToTemporalMix: false, layout: 'tokens',
    });
  }

  const out = linear(g, h, `${p}.proj_out`); // [B·F, L, C]
  const maps = g.op('Transpose', [reshape(g, out, [-1, height, width, c])], { perm: [0, 3, 1, 2] });
  return g.op('Add', [maps, x]);
}
