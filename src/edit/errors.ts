/**
 * A problem with the user's input or options: printed as one line by the CLI. `code` says which (e.g.
 * 'output-exists', 'too-large', 'non-finite') so that callers can react, or add their own hint, without parsing text.
 */
export class EditError extends Error {
  readonly userFacing = true;
  constructor(message: string, readonly code: string = 'bad-input') {
    super(message);
    this.name = 'EditError';
  }
}
