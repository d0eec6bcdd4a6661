/**
 * Our FLOP formulas (src/models/flops.ts) against torch's FlopCounterMode on diffusers' and transformers' classes
 * (tests/oracle/flops.py), on tiny configs and SVD's real ones at full size.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseClipVisionConfig } from '../../src/models/clip/config.js';
import { clipFlops, unetFlops, vaeDecodeFlops, vaeEncodeFlops } from '../../src/models/flops.js';
import { parseUnetConfig } from '../../src/models/unet/config.js';
import { parseVaeConfig } from '../../src/models/vae/config.js';
import { oracleData, oracleSkip } from '../helpers/oracle.js';

interface Row {
  network: 'unet' | 'vae_encode' | 'vae_decode' | 'clip';
  name: string;
  config: Record<string, unknown>;
  size: Record<string, number>;
  flops: number;
}
const rows = oracleData('flops', (dir) => JSON.parse(readFileSync(path.join(dir, 'flops.json'), 'utf8')) as Row[]);

function ours(r: Row): number {
  const s = r.size as { batch: number; frames: number; height: number; width: number; images: number };
  switch (r.network) {
    case 'unet': return unetFlops(parseUnetConfig(r.config), s);
    case 'vae_encode': return vaeEncodeFlops(parseVaeConfig(r.config), s);
    case 'vae_decode': return vaeDecodeFlops(parseVaeConfig(r.config), s);
    case 'clip': return clipFlops(parseClipVisionConfig(r.config), s.images);
  }
}

test('UNet, VAE encode/decode and CLIP FLOPs equal FlopCounterMode\'s, tiny and full size', { skip: oracleSkip('flops') }, () => {
  const report: string[] = [];
  for (const r of rows()) {
    const mine = ours(r);
    report.push(`${r.network} ${r.name} ${JSON.stringify(r.size)}: ours ${mine} torch ${r.flops}`);
    assert.ok(Math.abs(mine - r.flops) <= 1e-9 * r.flops, `${r.network} ${r.name} ${JSON.stringify(r.size)}: ours ${mine}, torch ${r.flops}`);
  }
  console.log(report.join('\n'));
});
