// The last line of defence around every socket event handler: whatever a
// datagram or a connection makes our code throw is logged (without payload),
// counted by where it happened, and confined to that input. A throw that
// escaped an event handler would end the process and every call on it.
import type { Logger } from '../shared/log.js';

export class HandlerGuard {
  /** Failures by handler name (a fixed set of labels chosen in code). */
  readonly counts = new Map<string, number>();

  constructor(private readonly log?: Logger) {}

  run(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(where, err);
    }
  }

  /** `fn` as an event listener that never throws. */
  wrap<A extends unknown[]>(where: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        this.report(where, err);
      }
    };
  }

  report(where: string, err: unknown): void {
    this.counts.set(where, (this.counts.get(where) ?? 0) + 1);
    this.log?.error(
      { where, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) },
      'socket event handler failed; the input that caused it was dropped',
    );
  }
}
