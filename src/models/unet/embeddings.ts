/**
 * diffusers' Timesteps (get_timestep_embedding with flip_sin_to_cos=True) and TimestepEmbedding, as graph pieces.
 * The sinusoid is always computed in float32 (diffusers does too, casting afterwards to the model dtype):
 * added time ids reach 127+, where a float16 phase would be off by whole fractions of a period.
 */
import type { Graph, Value } from '../../onnx/graph.js';
import { linear, silu } from '../../onnx/nn.js';

/**
 * exp(−ln(maxPeriod) · i / (half − shift)) for i < half = ⌊dim/2⌋, rounded step by step to float32 exactly as
 * torch evaluates it (float32 arange × float32(−ln 10000), ÷ float32 divisor, exp).
 */
export function timestepFrequencies(dim: number, downscaleFreqShift: number, maxPeriod = 10000): Float32Array {
  const half = Math.floor(dim / 2);
  const logScale = Math.fround(-Math.log(maxPeriod));
  const divisor = Math.fround(half - downscaleFreqShift);
  return Float32Array.from({ length: half }, (_, i) => Math.fround(Math.exp(Math.fround(Math.fround(logScale * i) / divisor))));
}

/**
 * Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift): t float32 [...] → float32 [..., dim] =
 * [cos(t·f), sin(t·f)] (zero-padded by one column when dim is odd).
 */
export function sinusoidalEmbedding(g: Graph, t: Value, dim: number, downscaleFreqShift: number): Value {
  const freqs = timestepFrequencies(dim, downscaleFreqShift);
  const phase = g.op('Mul', [
    g.op('Unsqueeze', [t, g.constant([-1], [1], 'int64')]),
    g.constant(freqs, [freqs.length], 'float32'),
  ]);
  const parts = [g.op('Cos', [phase]), g.op('Sin', [phase])];
  if (dim % 2 === 1) {
    const padShape = g.op('Concat', [g.op('Shape', [phase], { end: -1 }), g.constant([1], [1], 'int64')], { axis: 0 });
    parts.push(g.op('ConstantOfShape', [padShape]));  // float32 zeros by default
  }
  return g.op('Concat', parts, { axis: -1 });
}

/** Casts a float32 value to the graph's compute type (no node when they agree). */
export function toCompute(g: Graph, x: Value): Value {
  return g.computeType === 'float32' ? x : g.op('Cast', [x], { to: 10 /* FLOAT16 */ });
}

/** TimestepEmbedding with act_fn "silu" and no post-activation: linear_1 → SiLU → linear_2. */
export function timestepEmbedding(g: Graph, x: Value, prefix: string): Value {
  return linear(g, silu(g, linear(g, x, `${prefix}.linear_1`)), `${prefix}.linear_2`);
}
