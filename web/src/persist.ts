/**
 * The work in progress survives a reload: which upload is open, the user's additions to the frame (a PNG with
 * transparency, laid back over the source frame) and the settings, kept in IndexedDB (a drawing can be megabytes:
 * too much for localStorage), the keyframes' times and additions likewise. One record, replaced on each change; cleared when a job is submitted.
 */
import type { Upload } from './api.js';
import type { RegionMark } from './editor.js';

export interface Draft {
  upload: Upload;
  /** The first frame's additions. */
  edits: Blob | null;
  options: Record<string, unknown>;
  /** Later frames being edited (keyframes): each one's time in the source and its additions. */
  keyframes?: { time: number; edits: Blob | null }[];
  /** The region marks on the first frame (add to the region, protect). */
  marks?: RegionMark[];
}

const DB = 'videoshop';
const STORE = 'draft';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB unavailable'));
  });
}

async function run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = op(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB failed'));
    });
  } finally {
    db.close();
  }
}

/** Storage may be refused (private mode, quota): the page then works as before, without the safety net. */
export const drafts = {
  save: (draft: Draft) => run('readwrite', (s) => s.put(draft, 'current')).then(() => true, () => false),
  load: () => run<Draft | undefined>('readonly', (s) => s.get('current') as IDBRequest<Draft | undefined>).catch(() => undefined),
  clear: () => run('readwrite', (s) => s.delete('current')).then(() => true, () => false),
};
