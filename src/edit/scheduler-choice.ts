/**
 * Which sampler an edit runs on: the request's `scheduler`, with `auto` decided by the UNet's file name. AnimateLCM's
 * UNet is published as single files named after it (wangfuyun/AnimateLCM-SVD-xt: AnimateLCM-SVD-xt.safetensors,
 * AnimateLCM-SVD-xt-1.1.safetensors) that replace SVD-xt's UNet; it was distilled on its own σ grid and must run there.
 */
import { defaultsFor, type SamplerName } from '../pipeline/options.js';
import type { SCHEDULER_CHOICES } from './schema.js';

export type SchedulerChoice = (typeof SCHEDULER_CHOICES)[number];

/** 'animatelcm' for an AnimateLCM UNet (a path, a file name or a Hub id/file naming AnimateLCM), else 'euler'. */
export function schedulerForUnetName(name: string): SamplerName {
  return /animate[-_ ]?lcm/i.test(name) ? 'animatelcm' : 'euler';
}

/**
 * The sampler for a request's `scheduler` (default auto): under auto, by the name of the UNet file that replaces the
 * model's, or of the model itself when none does (a local diffusers folder of AnimateLCM-SVD), else Euler.
 */
export function resolveScheduler(choice: SchedulerChoice | undefined, unetOrModel: string | undefined): SamplerName {
  if (choice === 'euler' || choice === 'animatelcm') return choice;
  return unetOrModel === undefined ? 'euler' : schedulerForUnetName(unetOrModel);
}

/**
 * What an edit on this model (or UNet file) runs when the request does not choose: the sampler `auto` picks and its
 * steps and strength (AnimateLCM's few steps, or SVD's 25). What a front end shows as "Standard".
 */
export function samplerDefaults(unetOrModel: string | undefined): { sampler: SamplerName; steps: number; strength: number } {
  const sampler = resolveScheduler('auto', unetOrModel);
  const d = defaultsFor(sampler);
  return { sampler, steps: d.steps, strength: d.strength };
}
