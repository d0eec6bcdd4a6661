/**
 * A problem with an input or output file that the user can fix (missing file, not a video, ffmpeg missing…).
 * `userFacing` lets the CLI print the message as one line without a stack (see src/cli/errors.ts); `code` tells
 * programs what happened (e.g. 'output-exists', 'disk-full', 'not-a-file') without parsing the message.
 */
export class VideoError extends Error {
  readonly userFacing = true;
  constructor(message: string, readonly code: string = 'video') {
    super(message);
    this.name = 'VideoError';
  }
}
