export * from './options.js';
export * from './conditioning.js';
export * from './latents.js';
export * from './normalize.js';
export * from './invert.js';
export * from './denoise.js';
export * from './rescale.js';
export * from './videoshop.js';
