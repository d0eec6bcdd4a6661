/**
 * Localized editing in the product: what the edit did not touch comes back as the source's own pixels, at the
 * source's resolution (src/pipeline/locality: the edit's place tracked frame by frame, a feathered composite).
 * `keep-unedited off` skips all of it (unless masks are asked for): the output is then exactly the paper's method.
 *
 * One OutputFrames per edit, fed the output frames in order; it reads the source's frames at their own size as it
 * goes (one at a time), and writes the masks to `mask-out` (a video) and the frames folder (mask_00000.png …).
 */
import { rmSync } from 'node:fs';
import { compositeFrame, EditLocalizer, binaryMask, resizeMask, type Mask } from '../pipeline/locality/index.js';
import { tensor, type Tensor } from '../tensor.js';
import { AsyncQueue } from '../util/async-queue.js';
import { msg, option, VideoshopError, type MessagePart } from '../util/errors.js';
import type { FramesPngWriter } from '../video/frames-png.js';
import type { RgbImage } from '../video/image.js';
import type { VideoInfo } from '../video/probe.js';
import { readFrames } from '../video/read.js';
import { writeVideo, type WriteOptions, type WriteResult } from '../video/write.js';

interface Size {
  readonly width: number;
  readonly height: number;
}

export type KeepUnedited = 'auto' | 'on' | 'off';

export interface OutputFramesOptions {
  readonly mode: KeepUnedited;
  readonly video: string;
  readonly info: VideoInfo;
  readonly segment: { readonly start: number; readonly count: number };
  /** The region the user marked (`mask`), if any. */
  readonly userMask?: Mask;
  /** The region the user marked as unedited (`keep-mask`), if any. */
  readonly keepMask?: Mask;
  readonly maskOut?: string;
  /** The writer options of the output (timing, look), reused for the mask video. */
  readonly writeOptions: WriteOptions;
  readonly framesPng?: FramesPngWriter;
  readonly warn: (parts: readonly MessagePart[]) => void;
  readonly signal?: AbortSignal;
}

/** A user's mask image (white: marked) as a Mask; it must have the edited frame's size or the video's. */
export function userMaskOf(
  image: RgbImage, file: string, edited: Size, info: Size, field: 'mask' | 'keep-mask' = 'mask',
): Mask {
  const fits = (w: number, h: number) => image.width === w && image.height === h;
  if (!fits(edited.width, edited.height) && !fits(info.width, info.height)) {
    throw new VideoshopError('bad_input',
      msg`${option(field)} ${file} is ${image.width}×${image.height}: it must have the edited frame's size (${edited.width}×${edited.height}) or the video's (${info.width}×${info.height})`,
      { field });
  }
  const plane = image.width * image.height;
  const grey = new Float32Array(plane);
  for (let i = 0; i < plane; i++) grey[i] = (image.data[i] + image.data[plane + i] + image.data[2 * plane + i] + 3) / 6;
  return binaryMask(grey, image.width, image.height, 0.5);
}

export class OutputFrames {
  /** Whether frames are composited (else the model's frames pass as they are). */
  readonly compositing: boolean;
  private localizer: EditLocalizer;
  private readonly native: AsyncIterator<Tensor> | undefined;
  private readonly masks: AsyncQueue<Tensor> | undefined;
  private readonly maskWrite: Promise<WriteResult> | undefined;
  private index = 0;
  /** Milliseconds spent here: tracking, reading the source at its size, compositing, the masks. */
  ms = 0;
  private maskInstalled: string | undefined;

  /** `source` and `edited`: the first frame before and after the edit, at the processing size. */
  constructor(private readonly o: OutputFramesOptions, source: Tensor, edited: Tensor) {
    this.localizer = new EditLocalizer(source, edited, { userMask: o.userMask, keepMask: o.keepMask });
    const global = this.localizer.global;
    this.compositing = o.mode === 'on' || (o.mode === 'auto' && !global);
    if (o.mode === 'auto' && global) {
      o.warn(msg`the edit changes ${Math.round(this.localizer.coverage * 100)}% of the first frame, so the whole frame is re-rendered \
(${option('keep-unedited', 'on')} keeps the unedited pixels anyway)`);
    }
    if (this.compositing) {
      const { info, segment, signal } = o;
      const range = { start: segment.start, count: segment.count, info, signal };
      this.native = readFrames(o.video, { width: info.width, height: info.height, ...range })[Symbol.asyncIterator]();
    }
    if (o.maskOut) {
      this.masks = new AsyncQueue<Tensor>();
      const w = o.writeOptions;
      this.maskWrite = writeVideo(o.maskOut, this.masks, {
        width: w.width, height: w.height, fps: w.fps, timestamps: w.timestamps, look: w.look, inputs: w.inputs, overwrite: w.overwrite, signal: w.signal,
      });
      // Its failure is reported by finish(); until then nobody awaits it.
      this.maskWrite.catch(() => undefined);
    }
  }

  /**
   * A keyframe (src/edit/keyframes.ts) takes over from the next frame on: the edit's region is found again from its
   * image against its source frame, and tracked from there. Whether frames are composited stays the first frame's call.
   */
  reseed(source: Tensor, edited: Tensor): void {
    this.localizer = new EditLocalizer(source, edited);
  }

  /** Whether this edit needs an OutputFrames at all. */
  static needed(mode: KeepUnedited, maskOut: string | undefined): boolean {
    return mode !== 'off' || maskOut !== undefined;
  }

  /** The next output frame: `source` and `generated` at the processing size → the frame to write. */
  async next(source: Tensor, generated: Tensor): Promise<Tensor> {
    const t0 = performance.now();
    const mask = this.localizer.next(source, generated);
    // Composited, the masks show the blend weight used; otherwise the region the edit would have kept to.
    const shown = this.compositing ? this.localizer.alpha(mask) : mask;
    let out = generated;
    if (this.native) {
      const next = await this.native.next();
      if (next.done) throw new Error(`internal: the source ended before output frame ${this.index}`);
      out = compositeFrame(next.value, generated, shown);
    }
    this.masks?.push(greyFrame(shown));
    if (this.o.framesPng) {
      const { width, height } = this.o.info;
      await this.o.framesPng.write(greyFrame(resizeMask(shown, width, height)), this.index, 'mask_');
    }
    this.index++;
    this.ms += performance.now() - t0;
    return out;
  }

  /** After the last frame: the mask video written (and installed). */
  async finish(): Promise<void> {
    await this.native?.return?.(undefined);
    this.masks?.end();
    if (this.maskWrite) this.maskInstalled = (await this.maskWrite).path;
  }

  /** Takes the installed mask video away again (the output failed after it was written). */
  removeMaskVideo(): void {
    if (this.maskInstalled) rmSync(this.maskInstalled, { force: true });
    this.maskInstalled = undefined;
  }

  /** After a failure: stop the mask video (nothing of it stays) and the source reader. */
  async abort(err: unknown): Promise<void> {
    this.masks?.fail(err);
    await this.maskWrite?.catch(() => undefined);
    await this.native?.return?.(undefined).catch(() => undefined);
  }
}

/** A mask as a grey [3,H,W] frame in [-1, 1]: white where it is 1. */
function greyFrame(m: Mask): Tensor {
  const plane = m.width * m.height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) data[i] = data[plane + i] = data[2 * plane + i] = m.data[i] * 2 - 1;
  return tensor(data, [3, m.height, m.width]);
}
