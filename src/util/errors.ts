/**
 * The one error type Videoshop throws for anything a user can act on (a bad option, a missing file, a gated model, a
 * full disk…). Anything else that escapes is a bug.
 *
 * Every surface words the same error its own way: the CLI says `--block-overlap`, the HTTP API `"block-overlap"`,
 * the page its control's label, the library `blockOverlap`. So a message is kept as parts — text, and references to
 * the request fields it names (`option('fit', 'crop')`) — and each surface renders the references with its own
 * naming (`render`). `message` is the library's rendering. `code` is stable (snake_case, listed in docs/api.md);
 * `field` names the request field at fault (the schema's name, e.g. 'block-overlap'), `params` the values involved.
 */

/** A reference to a request field inside a message, optionally with the value that would fix things. */
export interface FieldRef {
  readonly field: string;
  readonly value?: string | number | boolean;
}

export type MessagePart = string | FieldRef;

/** How a surface names a field reference (see cliNaming/apiNaming in src/edit/schema.ts). */
export type FieldNaming = (ref: FieldRef) => string;

/** A field reference for `msg`: `option('fit', 'crop')` reads `--fit crop` in the CLI, `fit: "crop"` in the library. */
export function option(field: string, value?: string | number | boolean): FieldRef {
  return value === undefined ? { field } : { field, value };
}

function isRef(v: unknown): v is FieldRef {
  return typeof v === 'object' && v !== null && typeof (v as FieldRef).field === 'string' && Object.keys(v).every((k) => k === 'field' || k === 'value');
}

/** A message as parts: `` msg`${option('steps')} must be an integer, got ${x}` ``. Anything but a FieldRef is text. */
export function msg(strings: TemplateStringsArray, ...values: unknown[]): MessagePart[] {
  const parts: MessagePart[] = [];
  const push = (text: string) => {
    if (text === '') return;
    const last = parts.at(-1);
    if (typeof last === 'string') parts[parts.length - 1] = last + text;
    else parts.push(text);
  };
  strings.forEach((s, i) => {
    push(s);
    if (i < values.length) {
      const v = values[i];
      if (isRef(v)) parts.push(v);
      else push(String(v));
    }
  });
  return parts;
}

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The library's naming: the request's own keys (`blockOverlap`, `fit: "crop"`). */
export const libraryNaming: FieldNaming = (ref) =>
  ref.value === undefined ? camel(ref.field) : `${camel(ref.field)}: ${JSON.stringify(ref.value)}`;

export function renderParts(parts: readonly MessagePart[], naming: FieldNaming = libraryNaming): string {
  return parts.map((p) => (typeof p === 'string' ? p : naming(p))).join('');
}

export interface ErrorDetails {
  /** The request field at fault, by its schema name. */
  field?: string;
  /** The values involved (what was given, the limit…), for surfaces that word their own message. */
  params?: Record<string, unknown>;
  cause?: unknown;
}

export class VideoshopError extends Error {
  override name = 'VideoshopError';
  readonly parts: readonly MessagePart[];
  readonly field?: string;
  readonly params: Readonly<Record<string, unknown>>;

  constructor(readonly code: string, message: string | readonly MessagePart[], details: ErrorDetails = {}) {
    const parts = typeof message === 'string' ? [message] : message;
    super(renderParts(parts), details.cause === undefined ? undefined : { cause: details.cause });
    this.parts = parts;
    if (details.field !== undefined) this.field = details.field;
    this.params = details.params ?? {};
  }

  /** The message in a surface's own words. */
  render(naming: FieldNaming): string {
    return renderParts(this.parts, naming);
  }

  /** What crosses a process boundary (the server's inference worker, Redis workers): rebuilt by `fromJSON`. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, parts: [...this.parts], field: this.field, params: { ...this.params } };
  }

  static fromJSON(e: SerializedError): VideoshopError {
    return new VideoshopError(e.code, e.parts?.length ? e.parts : [e.message], { field: e.field, params: e.params });
  }
}

export interface SerializedError {
  code: string;
  message: string;
  parts?: MessagePart[];
  field?: string;
  params?: Record<string, unknown>;
}

export function isVideoshopError(err: unknown): err is VideoshopError {
  return err instanceof VideoshopError;
}

/** kebab or camel → snake: the one spelling of codes. */
export function snakeCode(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
}
