import { ShapeList, type WeightShape } from '../weight-shapes.js';
/**
 * Every parameter of diffusers' AutoencoderKLTemporalDecoder, with its state-dict name and shape, derived from the
 * config alone. Used to write random tiny models and checked in tests against what save_pretrained wrote.
 */
import type { VaeConfig } from './config.js';

class VaeShapes extends ShapeList {
  /** diffusers ResnetBlock2D without a time embedding. */
  resnet2d(prefix: string, cin: number, cout: number): void {
    this.norm(`${prefix}.norm1`, cin);
    this.conv(`${prefix}.conv1`, cout, cin, [3, 3]);
    this.norm(`${prefix}.norm2`, cout);
    this.conv(`${prefix}.conv2`, cout, cout, [3, 3]);
    if (cin !== cout) this.conv(`${prefix}.conv_shortcut`, cout, cin, [1, 1]);
  }
  /** SpatioTemporalResBlock without a time embedding (the temporal block always maps cout → cout). */
  spatioTemporal(prefix: string, cin: number, cout: number): void {
    this.resnet2d(`${prefix}.spatial_res_block`, cin, cout);
    const t = `${prefix}.temporal_res_block`;
    this.norm(`${t}.norm1`, cout);
    this.conv(`${t}.conv1`, cout, cout, [3, 1, 1]);
    this.norm(`${t}.norm2`, cout);
    this.conv(`${t}.conv2`, cout, cout, [3, 1, 1]);
    this.add(`${prefix}.time_mixer.mix_factor`, [1]);
  }
  /** diffusers Attention with group norm, used on [B, C, H, W] feature maps. */
  attention(prefix: string, c: number): void {
    this.norm(`${prefix}.group_norm`, c);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) this.linear(`${prefix}.${p}`, c, c);
  }
}

export type { WeightShape };

export function vaeWeightShapes(config: VaeConfig): WeightShape[] {
  const s = new VaeShapes();
  const ch = config.blockOutChannels;
  const last = ch[ch.length - 1];
  const L = config.latentChannels;

  s.conv('encoder.conv_in', ch[0], config.inChannels, [3, 3]);
  let cin = ch[0];
  ch.forEach((cout, i) => {
    for (let j = 0; j < config.layersPerBlock; j++) {
      s.resnet2d(`encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? cin : cout, cout);
    }
    if (i < ch.length - 1) s.conv(`encoder.down_blocks.${i}.downsamplers.0.conv`, cout, cout, [3, 3]);
    cin = cout;
  });
  s.resnet2d('encoder.mid_block.resnets.0', last, last);
  s.attention('encoder.mid_block.attentions.0', last);
  s.resnet2d('encoder.mid_block.resnets.1', last, last);
  s.norm('encoder.conv_norm_out', last);
  s.conv('encoder.conv_out', 2 * L, last, [3, 3]);
  s.conv('quant_conv', 2 * L, 2 * L, [1, 1]);

  s.conv('decoder.conv_in', last, L, [3, 3]);
  for (let j = 0; j < config.layersPerBlock; j++) s.spatioTemporal(`decoder.mid_block.resnets.${j}`, last, last);
  s.attention('decoder.mid_block.attentions.0', last);
  const reversed = [...ch].reverse();
  let prev = reversed[0];
  reversed.forEach((cout, i) => {
    for (let j = 0; j < config.layersPerBlock + 1; j++) {
      s.spatioTemporal(`decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? prev : cout, cout);
    }
    if (i < ch.length - 1) s.conv(`decoder.up_blocks.${i}.upsamplers.0.conv`, cout, cout, [3, 3]);
    prev = cout;
  });
  s.norm('decoder.conv_norm_out', ch[0]);
  s.conv('decoder.conv_out', config.outChannels, ch[0], [3, 3]);
  s.conv('decoder.time_conv_out', config.outChannels, config.outChannels, [3, 1, 1]);
  return s.items;
}
