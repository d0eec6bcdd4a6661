/** An error the API answers with its status and a JSON body `{"error": message}`. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}
