/** `videoshop frame`: export the frame to edit, exactly as `edit` decodes it. */
import path from 'node:path';
import type { Command } from 'commander';
import { exportFrame, msg, option, VideoshopError } from '../edit/index.js';
import { intArg, timeArg } from './args.js';

interface FrameFlags {
  output?: string;
  index?: number;
  time?: number;
  force: boolean;
}

export function addFrameCommand(program: Command, print: (line: string) => void): void {
  program
    .command('frame')
    .description('export one frame of a video as PNG at its display size (rotation applied), decoded exactly as edit reads it')
    .argument('<video>', 'source video')
    .option('-o, --output <frame.png>', 'where to write the PNG (default: <video name>-frame<N>.png here)')
    .option('--index <n>', 'frame number, from 0 (default 0)', intArg('index', 0))
    .option('--time <t>', 'or a time (seconds or [h:]m:s): the first frame at or after it', timeArg('time'))
    .option('--force', 'replace the output file if it exists', false)
    .action(async (video: string, flags: FrameFlags) => {
      if (flags.index !== undefined && flags.time !== undefined) {
        throw new VideoshopError('bad_option', msg`give ${option('index')} or ${option('time')}, not both`);
      }
      const output = flags.output ?? `${path.parse(video).name}-frame${flags.index ?? (flags.time !== undefined ? `-${flags.time}s` : 0)}.png`;
      const r = await exportFrame(video, output, { index: flags.index, time: flags.time, force: flags.force });
      print(`wrote ${r.path}: frame ${r.index} (${r.seconds.toFixed(3)} s), ${r.width}×${r.height}, ${r.bitDepth}-bit`);
    });
}
