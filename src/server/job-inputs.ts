/**
 * A job's files beyond its source and edited frame (POST /api/jobs' `keyframe_<n>` images and `into_job`'s earlier
 * result), each in the job's folder under a name the server chose; a remote worker fetches them by those names.
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';

export interface JobInputs {
  /** Later edited frames: the time in the source (seconds) and the image's file name. */
  keyframes?: { time: number; file: string }[];
  /** The finished job whose result this job re-renders a section of, and that result's file name here (a link). */
  into?: { job: string; file: string };
  /** The regions the user marked on the first frame (`mask`: edited, `keep_mask`: unedited), their file names. */
  mask?: string;
  keepMask?: string;
}

/** The files of a job's inputs (the names a worker may fetch). */
export function inputFiles(inputs: JobInputs): string[] {
  return [...(inputs.keyframes ?? []).map((k) => k.file), ...(inputs.into ? [inputs.into.file] : []),
    ...(inputs.mask ? [inputs.mask] : []), ...(inputs.keepMask ? [inputs.keepMask] : [])];
}

/** A keyframe's image in a job's folder (`keyframe_<n>` of the request), and the earlier result `into_job` names. */
export const keyframeFile = (n: number) => `keyframe-${n}.png`;
export const INTO_FILE = 'into.mp4';

/**
 * The regions the user marked (POST /api/jobs' and POST /api/uploads/:id/region's file fields `mask` and `keep_mask`,
 * white where marked), each to the base name it is received under and the name it is kept under.
 */
export const MARK_FIELDS = { mask: 'mask-upload', keep_mask: 'keep-mask-upload' } as const;
export const MARK_FILES = { mask: 'mask.png', keep_mask: 'keep-mask.png' } as const;

/** Keyframes a job may carry: POST /api/jobs' file fields `keyframe_0` … `keyframe_15`. */
export const MAX_KEYFRAMES = 16;

/** The multipart file fields of a job's keyframes, each to the base name it is received under. */
export const KEYFRAME_FIELDS: Readonly<Record<string, string>> = Object.fromEntries(
  Array.from({ length: MAX_KEYFRAMES }, (_, n) => [`keyframe_${n}`, `keyframe-${n}-upload`]));

/**
 * Whether two files hold the same bytes: one file under two names (a hard link: an upload and the jobs made from it
 * share one), else the same size and content, compared a chunk at a time.
 */
export async function sameContent(a: string, b: string): Promise<boolean> {
  const [sa, sb] = [statSync(a), statSync(b)];
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  if (sa.size !== sb.size) return false;
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const size = 1 << 20;
    const [ba, bb] = [Buffer.alloc(size), Buffer.alloc(size)];
    for (let at = 0; at < sa.size; at += size) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, size, at), fb.read(bb, 0, size, at)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}
