/** Videoshop's library API. */
export * from './tensor.js';
export { Random } from './random.js';
export type * from './models/types.js';
export * from './schedulers/euler.js';
