/**
 * A problem with an input or output file that the user can fix (missing file, not a video, ffmpeg missing…).
 * `userFacing` lets the CLI print the message as one line without a stack (see src/cli/errors.ts).
 */
export class VideoError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'VideoError';
  }
}
