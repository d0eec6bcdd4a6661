/** A problem with the user's input or options: printed as one line by the CLI. */
export class EditError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'EditError';
  }
}
