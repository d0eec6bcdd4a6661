/**
 * `videoshop serve --unet`: the operator's UNet file is loaded for every job; the API shows its file name only, never
 * the server path, and a file that is not the model's UNet fails the model's load with the one-line reason.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { toyModelFolder } from '../../src/models/toy.js';
import { createTinyModel } from '../../src/models/tiny.js';
import { getJson, startTestServer } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'videoshop-serve-unet-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function modelState(base: string, until: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const m = (await getJson(base, '/api/health')).body.model as Record<string, unknown>;
    if (until(m)) return m;
    await sleep(100);
  }
  throw new Error('the model never got there');
}

test('serve --unet: loaded for the jobs; health and options name the file, not its folder', async () => {
  const unet = path.join(toyModelFolder(), 'unet', 'diffusion_pytorch_model.safetensors');
  const srv = await startTestServer(path.join(dir, 'data'), 'toy', { worker: { model: 'toy', unet, device: 'cpu', calibrate: false } });
  try {
    const m = await modelState(srv.url, (x) => x.state !== 'loading');
    assert.equal(m.state, 'ready', JSON.stringify(m));
    assert.equal(m.unet, 'diffusion_pytorch_model.safetensors');
    const options = await getJson(srv.url, '/api/options');
    assert.equal(options.body.unet, 'diffusion_pytorch_model.safetensors');
    assert.deepEqual(options.body.sampler, { sampler: 'euler', steps: 25, strength: 0.55 }, 'what a job runs unless it chooses');
    assert.ok(!JSON.stringify(options.body).includes(path.dirname(unet)), 'no server path in the options');
  } finally {
    await srv.close();
  }
});

test('serve --unet with a UNet of another size: the load fails with the one-line reason', async () => {
  createTinyModel(path.join(dir, 'tiny'), { seed: 1 });
  const unet = path.join(dir, 'tiny', 'unet', 'diffusion_pytorch_model.safetensors');
  const srv = await startTestServer(path.join(dir, 'data-bad'), 'toy', { worker: { model: 'toy', unet, device: 'cpu', calibrate: false } });
  try {
    const m = await modelState(srv.url, (x) => x.state !== 'loading');
    assert.equal(m.state, 'failed');
    assert.match(String(m.error), /it is a UNet of another size/);
  } finally {
    await srv.close();
  }
});
