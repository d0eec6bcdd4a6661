/**
 * A push/pull channel: one side pushes items (and ends or fails it), the other iterates them with `for await`.
 * Lets one producer feed a second consumer (a second ffmpeg, say) while it feeds the first.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((err: unknown) => void) | undefined;
  private ended = false;
  private error: unknown;

  push(item: T): void {
    if (this.ended) throw new Error('AsyncQueue: push after end');
    if (this.waiting) this.wake({ value: item, done: false });
    else this.items.push(item);
  }

  end(): void {
    this.ended = true;
    if (this.waiting) this.wake({ value: undefined, done: true });
  }

  /** Ends the queue with an error: the consumer's next read throws it. */
  fail(err: unknown): void {
    this.ended = true;
    this.error = err ?? new Error('AsyncQueue failed');
    const reject = this.failWaiting;
    this.waiting = this.failWaiting = undefined;
    reject?.(this.error);
  }

  private wake(r: IteratorResult<T>): void {
    const resolve = this.waiting!;
    this.waiting = this.failWaiting = undefined;
    resolve(r);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.error !== undefined) return Promise.reject(this.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      },
    };
  }
}
