/** `edit`'s options for which frames are read and how the output is written (segment, resize, codec, audio). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { EditOptions } from '../edit/options.js';
import { AUDIO_CHOICES, VIDEO_CODECS, type AudioChoice, type VideoCodec } from '../video/encode-args.js';
import type { ResizeMode } from '../video/read.js';
import { parseIntArg } from './args.js';

export interface VideoFlags {
  start?: number;
  duration?: number;
  resize?: ResizeMode;
  codec?: VideoCodec;
  crf?: number;
  preset?: string;
  audio?: AudioChoice;
}

/** A time in seconds: `12.5`, `1:02.5` (m:s) or `1:00:02` (h:m:s). */
export function parseTimeArg(name: string) {
  return (value: string): number => {
    const parts = value.trim().split(':');
    const ok = parts.length <= 3 && parts.every((p, i) => (i === parts.length - 1 ? /^\d+(\.\d+)?$/ : /^\d+$/).test(p));
    if (!ok) throw new InvalidArgumentError(`${name} must be seconds (12.5) or [h:]m:s (1:02.5), got "${value}".`);
    return parts.reduce((acc, p) => acc * 60 + Number(p), 0);
  };
}

export function addVideoOptions(command: Command): Command {
  return command
    .option('--start <time>', 'edit from this time on (seconds or [h:]m:s; the first frame at or after it becomes the edited frame)', parseTimeArg('--start'))
    .option('--duration <time>', 'edit only this long (seconds or [h:]m:s; default: to the end)', parseTimeArg('--duration'))
    .addOption(new Option('--resize <mode>', "resizing to the processing size: fast (swscale bilinear, within 0.15 levels of the reference's) or antialias (the reference's antialiased bilinear, exact)")
      .choices(['fast', 'antialias']))
    .addOption(new Option('--codec <codec>', 'output codec (default h264; vp9 for .webm; ffv1 = lossless, .mkv only)').choices([...VIDEO_CODECS]))
    .option('--crf <n>', 'constant rate factor (default 18 h264, 20 hevc, 31 vp9; lower = better)', parseIntArg('--crf'))
    .option('--preset <name>', 'encoder preset: ultrafast … veryslow (default medium; vp9 also 0–8)')
    .addOption(new Option('--audio <mode>', "the source's audio: copy (default; re-encoded if the container can't hold it), aac, none").choices([...AUDIO_CHOICES]));
}

export function videoOptionsOf(flags: VideoFlags): Pick<EditOptions, 'start' | 'duration' | 'resize' | 'codec' | 'crf' | 'preset' | 'audio'> {
  return { start: flags.start, duration: flags.duration, resize: flags.resize, codec: flags.codec, crf: flags.crf, preset: flags.preset, audio: flags.audio };
}
