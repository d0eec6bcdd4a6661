/**
 * A full decode of the video's frames before any model work, so that a corrupt packet in the middle of a long video
 * fails at once instead of after all the blocks before it. ffprobe -count_frames decodes without converting or
 * scaling; bench/safety-checks.ts measures it at about one `ffmpeg -f null` pass (1080p × 300 frames: 1.7 s against
 * 0.2 s for the demux-only probe, 2 shared cores, noisy) — seconds for a long video, next to minutes of model work
 * per 14-frame block on CPU.
 */
import { VideoshopError } from '../util/errors.js';
import { fileArg, ffprobePath, lastErrorLine, runTool } from './ffmpeg.js';
import type { VideoInfo } from './probe.js';

export interface DecodeCheck {
  /** Frames that decoded. */
  frames: number;
  /** Decoder complaints that did not stop the decode (ffmpeg conceals such damage), for a warning. */
  damage?: string;
}

/**
 * Decodes every frame of the video stream; throws unless at least `needed` frames (default: all) decode. With a
 * `needed` below the frame count (an edited segment), a frame lost inside the segment of a video damaged elsewhere
 * too can pass here; the reader still refuses it, later.
 */
export async function checkDecodable(info: VideoInfo, opts: { needed?: number; signal?: AbortSignal } = {}): Promise<DecodeCheck> {
  // -threads 0: the decoder's frame threads (ffprobe decodes on one thread otherwise, ~1.6× slower on 2 cores).
  const args = ['-v', 'error', '-threads', '0', '-select_streams', String(info.streamIndex), '-count_frames',
    '-show_entries', 'stream=nb_read_frames', '-of', 'json', fileArg(info.path)];
  const { code, stdout, stderr } = await runTool(ffprobePath(), args, opts.signal);
  if (code !== 0) throw new VideoshopError('corrupt_video', `video ${info.path} cannot be decoded: ${lastErrorLine(stderr)}`);
  let frames = NaN;
  try {
    const streams = (JSON.parse(stdout) as { streams?: { nb_read_frames?: string }[] }).streams ?? [];
    frames = Number(streams[0]?.nb_read_frames);
  } catch {
    // handled below
  }
  const needed = opts.needed ?? info.frameCount;
  if (!(frames >= needed)) {
    const why = stderr.trim() ? `: ${lastErrorLine(stderr)}` : '';
    throw new VideoshopError('corrupt_video', `video ${info.path} is corrupt: only ${Number.isFinite(frames) ? frames : 0} of its ${info.frameCount} frames decode${why}`);
  }
  return { frames, damage: stderr.trim() ? lastErrorLine(stderr) : undefined };
}
