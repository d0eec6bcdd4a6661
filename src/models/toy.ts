/**
 * `--model toy`: the small SVD trained on synthetic scenes (training/, models/toy/MODEL_CARD.md), shipped in the
 * package under models/toy/ in diffusers layout. It loads through exactly the same path as a Hub or local model;
 * only the name → folder step is special.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VideoshopError } from '../util/errors.js';

export const TOY_MODEL = 'toy';

/** models/toy of the package this file belongs to (src/models/ under tsx, dist/src/models/ when built). */
export function toyModelFolder(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(here, up, 'models', 'toy');
    if (existsSync(path.join(candidate, 'model_index.json'))) return candidate;
  }
  throw new VideoshopError('bad_model', 'the toy model is missing from this installation (models/toy/model_index.json): reinstall videoshop, or run training/train.sh to rebuild it');
}
