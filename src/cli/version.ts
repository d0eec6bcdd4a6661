/** The package's version, read from its package.json (two folders above dist/src/cli or src/cli). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function packageVersion(): string {
  for (const up of ['../..', '../../..']) {
    try {
      const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'videoshop' && pkg.version) return pkg.version;
    } catch {
      // not this folder
    }
  }
  return 'unknown';
}
