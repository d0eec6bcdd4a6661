/** Every parameter of transformers' CLIPVisionModelWithProjection, with its state-dict name and shape. */
import { type ClipVisionConfig, numPositions } from './config.js';

export const CLIP_PREFIX = 'vision_model';

export function clipLayerPrefix(layer: number): string {
  return `${CLIP_PREFIX}.encoder.layers.${layer}`;
}

export function clipWeightShapes(c: ClipVisionConfig): { name: string; shape: number[] }[] {
  const h = c.hiddenSize;
  const out: { name: string; shape: number[] }[] = [];
  const add = (name: string, shape: number[]): void => {
    out.push({ name, shape });
  };
  const norm = (prefix: string): void => {
    add(`${prefix}.weight`, [h]);
    add(`${prefix}.bias`, [h]);
  };
  const linear = (prefix: string, inF: number, outF: number): void => {
    add(`${prefix}.weight`, [outF, inF]);
    add(`${prefix}.bias`, [outF]);
  };
  add(`${CLIP_PREFIX}.embeddings.class_embedding`, [h]);
  add(`${CLIP_PREFIX}.embeddings.patch_embedding.weight`, [h, c.numChannels, c.patchSize, c.patchSize]);
  add(`${CLIP_PREFIX}.embeddings.position_embedding.weight`, [numPositions(c), h]);
  norm(`${CLIP_PREFIX}.pre_layrnorm`); // sic: transformers' spelling
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = clipLayerPrefix(i);
    norm(`${p}.layer_norm1`);
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(`${p}.self_attn.${proj}`, h, h);
    norm(`${p}.layer_norm2`);
    linear(`${p}.mlp.fc1`, h, c.intermediateSize);
    linear(`${p}.mlp.fc2`, c.intermediateSize, h);
  }
  norm(`${CLIP_PREFIX}.post_layernorm`);
  add('visual_projection.weight', [c.projectionDim, h]);
  return out;
}
