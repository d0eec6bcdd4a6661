/**
 * The block structure of UNetSpatioTemporalConditionModel derived from its config: every resnet's channels and
 * GroupNorm eps, every transformer's width/heads/depth, where the resamplers sit and which skip tensor each up-block
 * resnet concatenates. weights.ts and graph.ts both walk this plan, so the bookkeeping lives in one place.
 */
import { ConfigError } from '../../util/config.js';
import { CROSS_ATTN_DOWN, CROSS_ATTN_UP, type UnetConfig } from './config.js';

export interface ResnetPlan {
  readonly prefix: string;
  /** Input channels (for up blocks: running features + concatenated skip). */
  readonly inChannels: number;
  readonly outChannels: number;
  /** Eps of both the spatial and the temporal GroupNorms (diffusers passes different values per block type). */
  readonly eps: number;
}

export interface TransformerPlan {
  readonly prefix: string;
  readonly channels: number;
  readonly heads: number;
  /** channels / heads */
  readonly headDim: number;
  /** Spatial/temporal block pairs. */
  readonly layers: number;
}

export interface DownBlockPlan {
  readonly resnets: readonly ResnetPlan[];
  /** Same length as resnets, or empty for a plain block. */
  readonly transformers: readonly TransformerPlan[];
  /** Prefix of the Downsample2D (its conv is `${prefix}.conv`), or undefined for the last block. */
  readonly downsampler?: string;
  readonly channels: number;
}

export interface UpBlockPlan {
  readonly resnets: readonly ResnetPlan[];
  readonly transformers: readonly TransformerPlan[];
  /** Prefix of the Upsample2D (nearest ×2, then `${prefix}.conv`), or undefined for the last block. */
  readonly upsampler?: string;
  readonly channels: number;
}

export interface UnetPlan {
  readonly down: readonly DownBlockPlan[];
  readonly mid: { readonly resnets: readonly ResnetPlan[]; readonly transformers: readonly TransformerPlan[] };
  readonly up: readonly UpBlockPlan[];
}

// Resnet eps per block type, as diffusers' UNet builds them (the up-block factories do not forward resnet_eps).
const EPS_PLAIN_DOWN = 1e-5;
const EPS_CROSS_DOWN = 1e-6;
const EPS_MID = 1e-5;
const EPS_UP = 1e-6;

function transformer(prefix: string, channels: number, heads: number, layers: number): TransformerPlan {
  return { prefix, channels, heads, headDim: channels / heads, layers };
}

export function unetPlan(config: UnetConfig): UnetPlan {
  const ch = config.blockOutChannels;
  const n = ch.length;
  // Channels of the skip tensors, in push order (the up path pops from the end).
  const skips: number[] = [ch[0]];

  const down: DownBlockPlan[] = config.downBlockTypes.map((type, i) => {
    const cross = type === CROSS_ATTN_DOWN;
    const resnets: ResnetPlan[] = [];
    const transformers: TransformerPlan[] = [];
    for (let j = 0; j < config.layersPerBlock[i]; j++) {
      const prefix = `down_blocks.${i}`;
      resnets.push({
        prefix: `${prefix}.resnets.${j}`,
        inChannels: j === 0 ? (i === 0 ? ch[0] : ch[i - 1]) : ch[i],
        outChannels: ch[i],
        eps: cross ? EPS_CROSS_DOWN : EPS_PLAIN_DOWN,
      });
      if (cross) {
        transformers.push(transformer(`${prefix}.attentions.${j}`, ch[i], config.numAttentionHeads[i], config.transformerLayersPerBlock[i]));
      }
      skips.push(ch[i]);
    }
    const last = i === n - 1;
    if (!last) skips.push(ch[i]);
    return { resnets, transformers, downsampler: last ? undefined : `down_blocks.${i}.downsamplers.0`, channels: ch[i] };
  });

  const c = ch[n - 1];
  const mid = {
    resnets: [0, 1].map((j) => ({ prefix: `mid_block.resnets.${j}`, inChannels: c, outChannels: c, eps: EPS_MID })),
    transformers: [transformer('mid_block.attentions.0', c, config.numAttentionHeads[n - 1], config.transformerLayersPerBlock[n - 1])],
  };

  let prev = c;
  const up: UpBlockPlan[] = config.upBlockTypes.map((type, i) => {
    const r = n - 1 - i; // the down block this up block mirrors
    const out = ch[r];
    const diffusersIn = ch[Math.max(r - 1, 0)];
    const numLayers = config.layersPerBlock[r] + 1;
    const cross = type === CROSS_ATTN_UP;
    const resnets: ResnetPlan[] = [];
    const transformers: TransformerPlan[] = [];
    for (let j = 0; j < numLayers; j++) {
      // diffusers sizes the concatenation from the block channels; the skip actually popped always agrees (each up
      // block pops its mirror's outputs plus the previous block's downsample), checked here as an invariant.
      const skip = j === numLayers - 1 ? diffusersIn : out;
      const popped = skips.pop();
      if (popped !== skip) {
        throw new ConfigError(
          `unet config: up block ${i} resnet ${j} expects a ${skip}-channel skip connection but the down path provides ${popped ?? 'none'}`,
        );
      }
      resnets.push({ prefix: `up_blocks.${i}.resnets.${j}`, inChannels: (j === 0 ? prev : out) + skip, outChannels: out, eps: EPS_UP });
      if (cross) {
        transformers.push(transformer(`up_blocks.${i}.attentions.${j}`, out, config.numAttentionHeads[r], config.transformerLayersPerBlock[r]));
      }
    }
    prev = out;
    const last = i === n - 1;
    return { resnets, transformers, upsampler: last ? undefined : `up_blocks.${i}.upsamplers.0`, channels: out };
  });
  if (skips.length !== 0) throw new ConfigError(`unet config: ${skips.length} skip connections left unused by the up blocks`);
  return { down, mid, up };
}
