/**
 * The page's files, from web/dist (built by `npm run build:web`): a fixed table made at start-up, so only the files
 * that exist there can be served, by exact name — no directory listing, no path from a URL reaches the file system.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.map': 'application/json', '.woff2': 'font/woff2', '.mp4': 'video/mp4',
};

export interface StaticFile {
  body: Buffer;
  type: string;
}

/** web/dist beside src/ (tsx) or beside dist/src/ (compiled). */
export function webDistDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [path.resolve(here, '../../web/dist'), path.resolve(here, '../../../web/dist')].find((d) => existsSync(path.join(d, 'index.html')));
}

export function loadStaticFiles(dir: string | undefined): Map<string, StaticFile> {
  const table = new Map<string, StaticFile>();
  if (!dir) return table;
  const walk = (sub: string) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      const full = path.join(dir, rel);
      if (statSync(full).isDirectory()) walk(rel);
      else if (TYPES[path.extname(name)]) table.set(`/${rel}`, { body: readFileSync(full), type: TYPES[path.extname(name)] });
    }
  };
  walk('');
  const index = table.get('/index.html');
  if (index) table.set('/', index);
  return table;
}
