/**
 * The main job: a video and its edited first frame in, the edited video out (paper §3, long videos in blocks as §4.2).
 * Streams one block at a time, so memory stays bounded by a block whatever the video's length.
 *
 * 1. Check the request (no file read yet), the output path, ffmpeg.
 * 2. Probe the video, plan the encode and the section, decode-check it, read the edited frame, check its aspect.
 * 3. Load the model (or take the caller's).
 * 4. Plan the edit (size, blocks), then edit block by block, each conditioned on its first frame as already edited.
 * 5. Write the video with the source's timing, look and audio.
 */
import { resizeImage } from '../image/resize.js';
import type { SvdModel } from '../models/svd.js';
import { anchorBlock, anchorColours, DEFAULT_BLOCK_ANCHOR } from '../pipeline/anchor.js';
import { blendFrames, crossfadeWeight, type Block } from '../pipeline/blocks.js';
import type { ChannelStats } from '../pipeline/rescale.js';
import { runVideoshop, type VideoshopProgress } from '../pipeline/videoshop.js';
import { slice, tensor, type Tensor } from '../tensor.js';
import { msg, option, renderParts, VideoshopError, type MessagePart } from '../util/errors.js';
import { ffmpegPath } from '../video/ffmpeg.js';
import { fitImage, readImage, type RgbImage } from '../video/image.js';
import { probeVideo, type VideoInfo } from '../video/probe.js';
import { readFrames } from '../video/read.js';
import { containerFor, planEncode } from '../video/encode-args.js';
import { frameTime, frameTimes, segmentFrames } from '../video/timing.js';
import { assertNotInput, sameFile, writeVideo, type WriteOptions, type WriteResult } from '../video/write.js';
import { checkDecodable } from '../video/decode-check.js';
import { FramesPngWriter } from '../video/frames-png.js';
import { checkOutputTarget } from '../video/output-file.js';
import { looksUnedited, type Mask } from '../pipeline/locality/index.js';
import { framesInBlocks } from './block-frames.js';
import { OutputFrames, userMaskOf } from './keep-unedited.js';
import { explainFailure } from './errors.js';
import { checkInto, spliceInto } from './into.js';
import { checkKeyframeSpacing, placeKeyframes, type PlacedKeyframe } from './keyframes.js';
import { checkEditMemory } from './memory.js';
import { planEditMemory, type MemoryPlan } from './memory-plan.js';
import { loadModel } from './model.js';
import { checkAspect, planBlocksOf, planEdit } from './plan.js';
import { progressTracker, type EditProgress, type StageEvent } from './progress.js';
import { checkEditRequest, type CheckedRequest, type EditRequest } from './request.js';
import { DEFAULT_MODEL, keyframeText } from './schema.js';

/** SVD's frames per block, for the memory check before the model (and its own frame count) is known. */
const DEFAULT_BLOCK_FRAMES = 14;

export interface EditResult {
  readonly output: string;
  readonly frames: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly processing: { readonly width: number; readonly height: number };
  readonly blocks: readonly Block[];
  /** UNet calls the edit made, counted at the network (a guided, batch-2 call counts 2). */
  readonly unetCalls: number;
  /** The sampler it ran on (the request's `scheduler`, `auto` resolved). */
  readonly scheduler: 'euler' | 'animatelcm';
  /** The steps and strength it ran with (⌊steps·strength⌋ steps inverted and denoised per block). */
  readonly steps: number;
  readonly strength: number;
  readonly audio: WriteResult['audio'];
  readonly model: string;
  /** The `unet` file that replaced the model's UNet weights, as given (a path or a Hub org/name/file), or null. */
  readonly unet: string | null;
  readonly device: string;
  readonly dtype: string;
  /**
   * Milliseconds per stage (summed over blocks) and in total; `keep`: keeping the unedited pixels (tracking the edit,
   * reading the source at its own size, compositing, masks), part of `write`.
   */
  readonly timings: Record<'load' | 'read' | 'encode' | 'invert' | 'denoise' | 'decode' | 'write' | 'keep' | 'total', number>;
  readonly warnings: readonly string[];
  /** The memory plan the edit ran with (CPU only): settings and the estimated peak per stage, bytes. */
  readonly memory?: MemoryPlan;
}

/** Something the user should know that does not stop the edit, as parts naming fields (rendered per surface). */
export interface EditWarning {
  readonly message: string;
  readonly parts: readonly MessagePart[];
}

export interface EditHooks {
  onProgress?: (p: EditProgress) => void;
  /** Things the user should know that don't stop the edit (the message in the library's words, and its parts). */
  onWarning?: (message: string, warning: EditWarning) => void;
  /** Stops the edit (it checks between network calls); the output is not written. */
  signal?: AbortSignal;
  /** An already loaded model (loadModel), reused across edits; the request's model fields are then ignored. */
  model?: SvdModel;
}

export async function editVideo(request: EditRequest, hooks: EditHooks = {}): Promise<EditResult> {
  const signal = hooks.signal ?? request.signal;
  try {
    return await runEdit(request, hooks, signal);
  } catch (err) {
    throw explainFailure(err, signal);
  }
}

async function runEdit(request: EditRequest, hooks: EditHooks, signal: AbortSignal | undefined): Promise<EditResult> {
  const t0 = performance.now();
  const warnings: string[] = [];
  const warn = (parts: readonly MessagePart[]) => {
    const message = renderParts(parts);
    warnings.push(message);
    hooks.onWarning?.(message, { message, parts });
  };
  const track = progressTracker();
  const progress = (e: StageEvent) => hooks.onProgress?.(track(e));
  // 1. Bad options and a missing ffmpeg fail here, before a model of several GB is loaded.
  const opts = checkEditRequest(request);
  checkPaths(opts);
  ffmpegPath();
  // 2. The video and the edited frame.
  const info = await probeVideo(opts.video);
  // Bad codec/crf/preset for this video and a section outside it fail here too.
  const encode = planEncode(opts.output, info.width, info.height, opts, info);
  const segment = segmentFrames(info, opts.start, opts.duration);
  // Later edited frames (their place; their images are read below) and the earlier result a section goes into.
  const keyframes = opts.keyframe?.length ? placeKeyframes(info, segment, opts.keyframe) : [];
  const into = opts.into ? await probeVideo(opts.into) : undefined;
  if (opts.into && into) {
    checkInto(opts.into, into, info);
    if (encode.codec !== 'ffv1') {
      warn(msg`${option('into')}: frames outside the section are re-encoded with ${encode.codec} (within its loss of ${opts.into}, not identical); \
.mkv with ${option('codec', 'ffv1')} keeps them bit for bit`);
    }
  }
  // Every frame up to the segment's end decodes (a corrupt packet mid-video fails now, not after the blocks before it).
  const decoded = await checkDecodable(info, { needed: segment.start + segment.count, signal });
  if (decoded.damage) warn(msg`${opts.video} has damaged frames that ffmpeg conceals (${decoded.damage})`);
  if (opts.size) checkEditMemory(opts.size, opts.blockFrames ?? DEFAULT_BLOCK_FRAMES);
  // The memory plan, before any download or load: the settings that keep the peak within this process's memory, or
  // one line naming a size that fits (src/edit/memory-plan.ts). A caller's loaded model is planned once it is known.
  const memory = hooks.model ? undefined
    : planEditMemory({ ...opts, maxGuidance: opts.methodOptions.maxGuidance }, { ...info, frames: segment.count });
  const keep = opts.keepUnedited ?? 'auto';
  const masksOut = opts.maskOut !== undefined || keep !== 'off';
  const framesPng = opts.framesDir ? new FramesPngWriter(opts.framesDir, segment.count, 'frame_', 0, masksOut ? ['mask_'] : []) : undefined;
  try {
    const edited = await readImage(opts.editedFrame);
    if (edited.hadTransparency) warn(msg`${opts.editedFrame} has transparent pixels; the alpha channel is ignored`);
    checkAspect(edited, info, opts.fit);
    for (const k of keyframes) await checkKeyframeImage(k, info, opts.fit, warn);
    const userMask = opts.mask ? userMaskOf(await readImage(opts.mask), opts.mask, edited, info) : undefined;
    const keepMask = opts.keepMask ? userMaskOf(await readImage(opts.keepMask), opts.keepMask, edited, info, 'keep-mask') : undefined;

    // 3. The model.
    const tLoad = performance.now();
    const svd = hooks.model ?? await loadModel(opts.model ?? DEFAULT_MODEL, {
      device: opts.device, dtype: opts.dtype, variant: opts.variant, cacheDir: opts.cacheDir, threads: opts.threads, signal, unet: opts.unet,
      onNotice: (m) => warn([m]), onProgress: hooks.onProgress,
    });
    const loadMs = performance.now() - tLoad;
    try {
      return await editWithModel(opts, svd, info, edited,
        { progress, warn, warnings, t0, loadMs, framesPng, segment, signal, userMask, keepMask, keyframes, into, memory });
    } finally {
      if (!hooks.model) await svd.release();
    }
  } catch (err) {
    framesPng?.cleanup();
    throw err;
  }
}

interface RunContext {
  progress: (e: StageEvent) => void;
  warn: (parts: readonly MessagePart[]) => void;
  warnings: string[];
  t0: number;
  loadMs: number;
  framesPng: FramesPngWriter | undefined;
  segment: { start: number; count: number };
  signal: AbortSignal | undefined;
  userMask: Mask | undefined;
  keepMask: Mask | undefined;
  keyframes: readonly PlacedKeyframe[];
  /** The earlier result the section goes into (`into`), probed and checked. */
  into: VideoInfo | undefined;
  memory: MemoryPlan | undefined;
}

async function editWithModel(opts: CheckedRequest, svd: SvdModel, info: VideoInfo, edited: RgbImage, ctx: RunContext): Promise<EditResult> {
  // 4. The plan: size, the section's frames (a preview edits the first block only), blocks.
  const plan = planEdit(info, ctx.segment.count, opts, svd, ctx.keyframes.map((k) => k.offset));
  // Keyframes past a preview's first block are not reached; the rest each start a block (src/edit/keyframes.ts).
  const keyframes = ctx.keyframes.filter((k) => plan.keyframes.includes(k.offset));
  checkKeyframeSpacing(keyframes, plan.frames, plan.blockOverlap);
  const keyAt = new Map(keyframes.map((k) => [k.offset, k]));
  const size = plan.size;
  const memory = ctx.memory ?? (svd.device === 'cpu'
    ? planEditMemory({ ...opts, model: svd.folder, size, maxGuidance: opts.methodOptions.maxGuidance }, { ...info, frames: plan.blockFrames })
    : undefined);
  const method = { ...opts.methodOptions, ...memory?.settings, scheduler: svd.scheduler };
  const editedFrame = fitImage(edited, size.width, size.height, opts.fit ?? 'stretch');
  // The segment edited (start/duration, checked before the model loaded), in frames; block indices below count
  // from its first frame.
  const segment = ctx.segment;
  const frameCount = plan.frames;
  const blocks = planBlocksOf(plan);
  // CLIP sees the first frames at their own resolution, as in the reference (it resizes the original frames to 224²).
  const nativeFrame = async (index: number): Promise<Tensor | undefined> => {
    if (size.width === info.width && size.height === info.height) return undefined;
    let frame: Tensor | undefined;
    for await (const f of readFrames(opts.video, { width: info.width, height: info.height, start: index, count: 1, info, signal: ctx.signal })) frame = f;
    return frame;
  };
  const sourceNative = await nativeFrame(segment.start);
  const embeddingFrames = { source: sourceNative, edited: opts.fit ? editedFrame : edited };
  const timings = { load: ctx.loadMs, read: 0, encode: 0, invert: 0, denoise: 0, decode: 0, write: 0, keep: 0, total: 0 };

  // Output frames not yet handed to the writer, by absolute index (at most one block's worth), and their source frames.
  const pending = new Map<number, Tensor>();
  const sourceAt = new Map<number, Tensor>();
  let written = 0;
  let unetCalls = 0;
  const signal = ctx.signal;
  const into = ctx.into && opts.into ? { file: opts.into, info: ctx.into } : undefined;
  const keyImages = keyframes.map((k) => k.image);
  const writeOptions: WriteOptions = {
    width: info.width, height: info.height, fps: info.fps,
    audioFrom: info.hasAudio ? opts.video : undefined, inputs: [opts.video, opts.editedFrame, ...keyImages], overwrite: opts.force, signal,
    // The source's look (colour tags, SAR, rotation) and timing: the exact rate, or every frame's time (VFR).
    look: info, timestamps: frameTimes(info, segment.start, frameCount),
    audioStartSeconds: segment.start > 0 ? Math.max(0, frameTime(info, segment.start) + firstPtsSeconds(info)) : undefined,
    codec: opts.codec, crf: opts.crf, preset: opts.preset, audio: opts.audio,
  };
  // Into an earlier result: the whole video, its audio, the source's timing from the first frame.
  const outputOptions: WriteOptions = into ? {
    ...writeOptions, audioFrom: into.info.hasAudio ? into.file : undefined, audioStartSeconds: undefined, audioWhole: true,
    videoStartSeconds: firstPtsSeconds(into.info),
    replaceAudioSource: sameFile(opts.output, into.file),
    timestamps: frameTimes(info, 0, info.frameCount),
  } : writeOptions;
  // Keeping the unedited pixels (and the masks): set up on the first block's frames, fed every output frame.
  const keep = opts.keepUnedited ?? 'auto';
  let output: OutputFrames | undefined;
  // Block 0's rescaling target (Eq. 9) and colour statistics, for later blocks anchored to the edit.
  let editRescaleTarget: ChannelStats | null | undefined;
  let colourReference: ChannelStats | undefined;
  const blockAnchor = opts.blockAnchor ?? DEFAULT_BLOCK_ANCHOR;
  // What the current span (the first frame's, or a keyframe's) is conditioned on, and its first block.
  let spanEdit = editedFrame;
  let spanEmbedding: typeof embeddingFrames = embeddingFrames;
  let spanFirst = 0;

  async function* editedFrames(): AsyncGenerator<Tensor> {
    // One decoding pass over the whole video; framesInBlocks keeps the overlap for the next block.
    const source = readFrames(opts.video, {
      width: size.width, height: size.height, start: segment.start, count: frameCount, info, signal, resize: opts.resize,
    });
    const reader = framesInBlocks(source, blocks)[Symbol.asyncIterator]();
    try {
      for (let j = 0; j < blocks.length; j++) {
        const block = blocks[j];
        const count = block.end - block.start;
        signal?.throwIfAborted();
        let t = performance.now();
        const next = await reader.next();
        if (next.done) throw new Error(`internal: no frames for block ${j + 1}`);
        const frames = next.value;
        ctx.progress({ stage: 'read', step: count, total: count, block: j + 1, blocks: blocks.length });
        timings.read += performance.now() - t;
        if (j === 0 && looksUnedited(frames[0], editedFrame)) {
          ctx.warn([`the edited frame is identical to the video's first frame: the output will ${keep === 'off' ? 'only re-render the source' : 'be the source as it is'}`]);
        }
        if (j === 0 && OutputFrames.needed(keep, opts.maskOut)) {
          output = new OutputFrames({
            mode: keep, video: opts.video, info, segment: { start: segment.start, count: frameCount }, userMask: ctx.userMask, keepMask: ctx.keepMask,
            maskOut: opts.maskOut, writeOptions: { ...writeOptions, audioFrom: undefined, inputs: [opts.video, opts.editedFrame, opts.output] },
            framesPng: ctx.framesPng, warn: ctx.warn, signal,
          }, frames[0], editedFrame);
        }
        const key = j > 0 ? keyAt.get(block.start) : undefined;
        if (key) {
          // A keyframe: from here on, its image conditions the blocks as the edited first frame did (and the edit
          // region is found again from it against its source frame).
          const image = await readImage(key.image);
          spanEdit = fitImage(image, size.width, size.height, opts.fit ?? 'stretch');
          spanEmbedding = { source: await nativeFrame(key.index), edited: opts.fit ? spanEdit : image };
          spanFirst = j;
          editRescaleTarget = undefined;
          colourReference = undefined;
          if (looksUnedited(frames[0], spanEdit)) ctx.warn(msg`${option('keyframe', keyframeText(key))} is identical to its source frame`);
          output?.reseed(frames[0], spanEdit);
        }
        const local = j - spanFirst;
        frames.forEach((f, k) => sourceAt.set(block.start + k, f));
        const video = stack(frames);
        // Block 0 is conditioned on the user's edit; later blocks on their first frame as already edited and, unless
        // chained, on the user's edit too (src/pipeline/anchor.ts).
        const previous = local === 0 ? undefined : pending.get(block.start);
        if (local > 0 && !previous) throw new Error(`internal: frame ${block.start} of block ${j + 1} was not edited by block ${j}`);
        const anchored = anchorBlock(local, blockAnchor, {
          edit: spanEdit, embeddingFrames: spanEmbedding, previous, source: frames[0], editRescaleTarget,
        });
        const result = await runVideoshop(svd.models, { video, ...anchored },
          { ...method, seed: method.seed + j, noise: j === 0 ? method.noise : undefined },
          (p: VideoshopProgress) => {
            signal?.throwIfAborted();
            ctx.progress({ stage: p.stage, step: p.step, total: p.total, block: j + 1, blocks: blocks.length });
          });
        if (local === 0) editRescaleTarget = result.conditioning.rescaleTarget;
        const coloured = anchorColours(local, blockAnchor, result.frames, colourReference);
        colourReference = coloured.reference;
        for (const w of result.warnings) ctx.warn([`block ${j + 1}: ${w}`]);
        timings.encode += result.timings.encodeMs;
        timings.invert += result.timings.invertMs;
        timings.denoise += result.timings.denoiseMs;
        timings.decode += result.timings.decodeMs;
        unetCalls += result.unetCalls;

        if (method.threshold !== null && !allFinite(result.frames)) {
          // NaN/Inf weights, or an overflow: clamping would write a grey video and call it a success.
          throw new VideoshopError('non_finite', `the model produced non-finite values (NaN or infinity) in block ${j + 1}: its weights are damaged ` +
            `or the precision overflowed; check the model files, or compute in float32`);
        }
        const previousEnd = j > 0 ? blocks[j - 1].end : 0;
        for (let k = 0; k < count; k++) {
          const index = block.start + k;
          const frame = clampFrame(slice(coloured.frames, 0, k, k + 1));
          const before = pending.get(index);
          pending.set(index, before ? blendTensor(before, frame, crossfadeWeight(index, block.start, previousEnd)) : frame);
        }
        // Frames before the next block's start are final.
        const finalEnd = j + 1 < blocks.length ? blocks[j + 1].start : frameCount;
        t = performance.now();
        for (; written < finalEnd; written++) {
          const generated = pending.get(written)!;
          const frame = output ? await output.next(sourceAt.get(written)!, generated) : generated;
          pending.delete(written);
          sourceAt.delete(written);
          ctx.progress({ stage: 'write', step: written + 1, total: frameCount });
          yield frame;
        }
        timings.write += performance.now() - t;
      }
      await output?.finish();
    } catch (err) {
      await output?.abort(err);
      throw err;
    } finally {
      await reader.return?.(undefined);
    }
  }

  const framesPng = ctx.framesPng;
  async function* withPngs(source: AsyncGenerator<Tensor>): AsyncGenerator<Tensor> {
    let index = 0;
    for await (const frame of source) {
      if (framesPng) await framesPng.write(resizeImage(frame, info.width, info.height), index);
      index++;
      yield frame;
    }
  }

  let out: WriteResult;
  try {
    const frames = into
      ? spliceInto(readFrames(into.file, { width: info.width, height: info.height, start: 0, count: info.frameCount, info: into.info, signal }),
        editedFrames(), { section: { start: segment.start, count: frameCount }, total: info.frameCount, width: info.width, height: info.height })
      : editedFrames();
    out = await writeVideo(opts.output, withPngs(frames), outputOptions);
  } catch (err) {
    // The mask video was installed just before the output failed its last checks: it goes too.
    output?.removeMaskVideo();
    throw err;
  }
  for (const note of out.notes) ctx.warn(note);
  timings.keep = output?.ms ?? 0;
  timings.total = performance.now() - ctx.t0;
  return {
    output: out.path,
    frames: out.frameCount,
    fps: info.fpsValue,
    width: out.width,
    height: out.height,
    processing: size,
    blocks,
    unetCalls,
    scheduler: method.sampler,
    steps: method.steps,
    strength: method.strength,
    audio: out.audio,
    model: svd.folder,
    unet: svd.unet?.source ?? null,
    device: svd.device,
    dtype: svd.dtype,
    timings,
    warnings: ctx.warnings,
    memory,
  };
}

/** Where the first frame sits from the container's start (what `-ss` on the source counts from). */
function firstPtsSeconds(info: VideoInfo): number {
  return info.pts.length ? (info.pts[0] * info.timeBase.num) / info.timeBase.den - info.formatStartSeconds : 0;
}

/** A keyframe's image: readable, and of the video's aspect ratio or fitted (`fit`); refusals name the keyframe. */
async function checkKeyframeImage(k: PlacedKeyframe, info: VideoInfo, fit: string | undefined, warn: (parts: readonly MessagePart[]) => void): Promise<void> {
  try {
    const image = await readImage(k.image);
    if (image.hadTransparency) warn(msg`${k.image} has transparent pixels; the alpha channel is ignored`);
    checkAspect(image, info, fit);
  } catch (err) {
    if (!(err instanceof VideoshopError)) throw err;
    const parts = err.parts.map((p) => (typeof p === 'string' ? p.replace(/^the edited frame/, 'its image') : p));
    throw new VideoshopError(err.code, [option('keyframe', keyframeText(k)), ': ', ...parts], { field: err.field ?? 'keyframe', params: err.params, cause: err });
  }
}

function checkPaths(opts: CheckedRequest): void {
  containerFor(opts.output);
  const keyImages = opts.keyframe?.map((k) => k.image) ?? [];
  // The earlier result may be replaced by its re-rendered copy, with `force` only.
  const replacesInto = opts.into !== undefined && sameFile(opts.output, opts.into);
  if (replacesInto && !opts.force) {
    throw new VideoshopError('output_exists', msg`${option('output')} is the ${option('into')} file: choose another output, or pass ${option('force', true)} to replace it`,
      { field: 'output' });
  }
  const into = opts.into && !replacesInto ? [opts.into] : [];
  const marks = [opts.mask, opts.keepMask].filter((f): f is string => f !== undefined);
  assertNotInput(opts.output, [opts.video, opts.editedFrame, ...keyImages, ...into, ...marks]);
  // Folder writable, name short enough, an existing output only with `force`; stale temp files of dead runs go.
  checkOutputTarget(opts.output, { overwrite: opts.force });
  if (opts.maskOut !== undefined) {
    containerFor(opts.maskOut);
    assertNotInput(opts.maskOut, [opts.video, opts.editedFrame, opts.output, ...marks]);
    checkOutputTarget(opts.maskOut, { overwrite: opts.force });
  }
}

function allFinite(t: Tensor): boolean {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

function stack(frames: readonly Tensor[]): Tensor {
  const [c, h, w] = frames[0].dims;
  const data = new Float32Array(frames.length * c * h * w);
  frames.forEach((f, i) => data.set(f.data, i * c * h * w));
  return tensor(data, [frames.length, c, h, w]);
}

function clampFrame(frame: Tensor): Tensor {
  const [, c, h, w] = frame.dims;
  return tensor(frame.data.map((v) => (Number.isNaN(v) ? 0 : Math.min(1, Math.max(-1, v)))), [c, h, w]);
}

function blendTensor(previous: Tensor, next: Tensor, w: number): Tensor {
  return tensor(blendFrames(previous.data, next.data, w), next.dims);
}

export { looksUnedited };
