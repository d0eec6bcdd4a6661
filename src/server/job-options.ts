/**
 * A job's options are the edit schema's job fields by name (`{"steps": 25, "min-guidance": 3}`, camelCase accepted),
 * checked by the schema itself (src/edit/schema.ts) before the job is queued: the same types, ranges and cross-field
 * rules as the CLI's and the library's. The output is the server's result.mp4, so a codec .mp4 cannot hold is refused
 * at once too.
 */
import path from 'node:path';
import { checkEditRequest, EDIT_FIELDS, fieldSpec, requestFields, VideoshopError, type EditRequest, type FieldSpec } from '../edit/index.js';
import { INTO_FILE, type JobInputs } from './job-inputs.js';

export const RESULT_FILE = 'result.mp4';
/**
 * The per-frame masks beside the result (`mask-out`: white where the output is the model's), written when the edit
 * keeps unedited pixels and the job renders its own result (a section re-render writes the earlier result again).
 */
export const MASKS_FILE = 'masks.mp4';

/** The options a job may set (GET /api/options): every job field of the schema. */
export function jobFields(): readonly FieldSpec[] {
  return EDIT_FIELDS.filter((f) => f.scope === 'job');
}

/** A value as the API shows it back (sizes as "WxH"). */
function shown(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'width' in value && 'height' in value) {
    const s = value as { width: number; height: number };
    return `${s.width}x${s.height}`;
  }
  return value;
}

/**
 * Validates a job's options JSON; returns the request's fields and the options as given, by their schema names (for
 * display and persistence). `model`: the server's; a job may name it, not another. `unet`: the operator's UNet file
 * (serve --unet), added to the fields so that the plan and the sampler (AnimateLCM's by its name) are the job's own.
 * Throws VideoshopError.
 */
export function parseJobOptions(json: unknown, model: string, unet?: string): { fields: Partial<EditRequest>; given: Record<string, unknown> } {
  if (json === undefined || json === null) json = {};
  if (typeof json !== 'object' || Array.isArray(json)) {
    throw new VideoshopError('bad_option', 'options must be a JSON object, e.g. {"steps": 25, "strength": 0.55}');
  }
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === 'model') {
      if (value !== model && value !== null && value !== '') {
        throw new VideoshopError('bad_option', `option model: this server runs ${model} (start another server for ${String(value)})`, { field: 'model' });
      }
      continue;
    }
    if (key === 'unet' && value !== null && value !== '') {
      // A job naming a file would read the server's disk (or make it download gigabytes): the operator chooses it.
      throw new VideoshopError('bad_option', 'option unet: the UNet file is chosen by whoever starts the server (videoshop serve --unet); a job cannot set it',
        { field: 'unet' });
    }
    const spec = fieldSpec(key);
    raw[spec && spec.scope === 'job' ? spec.name : key] = value;
  }
  const fields = requestFields(raw, ['job']);
  // The rules between fields, and the codec against the server's .mp4 output.
  checkEditRequest({ video: 'v', editedFrame: 'e', output: RESULT_FILE, ...fields });
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) given[fieldSpec(key)!.name] = shown(value);
  return { fields: unet ? { ...fields, unet } : fields, given };
}

/**
 * The edit request of a job whose files lie in `dir` (the server's job folder, or a remote worker's copy): its
 * keyframes and the earlier result it re-renders a section of (`inputs`) too.
 */
export function jobRequest(
  options: Record<string, unknown>, videoFile: string, dir: string, model: string, unet?: string, inputs: JobInputs = {},
): EditRequest {
  const { fields } = parseJobOptions(options, model, unet);
  const keyframe = inputs.keyframes?.map((k) => ({ time: k.time, image: path.join(dir, k.file) }));
  return {
    ...fields, video: path.join(dir, videoFile), editedFrame: path.join(dir, 'edited.png'), output: path.join(dir, RESULT_FILE), force: true,
    ...(keyframe?.length ? { keyframe } : {}), ...(inputs.into ? { into: path.join(dir, inputs.into.file) } : {}),
    ...(inputs.mask ? { mask: path.join(dir, inputs.mask) } : {}), ...(inputs.keepMask ? { keepMask: path.join(dir, inputs.keepMask) } : {}),
    ...(fields.keepUnedited !== 'off' && !inputs.into ? { maskOut: path.join(dir, MASKS_FILE) } : {}),
  };
}

/**
 * A worker's message in the user's words: the job's files by what they are (the video by the name it was uploaded
 * under), any other absolute path as "a file on the server". Workers name files by their own paths (the server's job
 * folder, or a remote worker's copy), which must not reach the page.
 */
export function withoutServerPaths(text: string, video: { name: string; file: string }): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text
    .replace(new RegExp(`(?:[A-Za-z]:)?[\\\\/][^\\s:;,'"()]*[\\\\/]edited\\.png`, 'g'), 'the edited frame')
    .replace(new RegExp(`(?:[A-Za-z]:)?[\\\\/][^\\s:;,'"()]*[\\\\/]${escape(video.file)}`, 'g'), video.name)
    .replace(new RegExp(`(?:[A-Za-z]:)?[\\\\/][^\\s:;,'"()]*[\\\\/]${escape(RESULT_FILE)}`, 'g'), 'the result')
    .replace(new RegExp(`(?:[A-Za-z]:)?[\\\\/][^\\s:;,'"()]*[\\\\/]${escape(INTO_FILE)}`, 'g'), 'the earlier result')
    .replace(new RegExp(`(?:[A-Za-z]:)?[\\\\/][^\\s:;,'"()=]*[\\\\/]keyframe-(\\d+)\\.png`, 'g'), 'keyframe_$1')
    .replace(/(^|[\s(“"'])(?:[A-Za-z]:)?[\\/](?:[^\s:;,'"()\\/]+[\\/])+[^\s:;,'"()]*/g, '$1a file on the server');
}
