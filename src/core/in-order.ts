/**
 * Runs a connection's input one item at a time, in arrival order, even when an item's
 * work is asynchronous (history, accounts, the store): items that arrive meanwhile wait
 * and run, in order, once it settles. A base class rather than a helper object, so the
 * tens of thousands of connections that use it carry no extra object each.
 */
/** Items one connection may have waiting before its reading is paused. */
const MAX_HELD = 64;

export abstract class InOrder<T> {
  /** Items waiting behind an async one, or null when nothing is running. */
  private held: T[] | null = null;

  /** Does the work for one item; a promise holds later items back until it settles. */
  protected abstract handle(item: T): void | Promise<void>;
  /** Reports a failure of `item` (thrown, or the promise rejected). */
  protected abstract failed(err: unknown, item: T): void;
  /**
   * Too much input is waiting (a client that keeps sending while its own reply waits for
   * it to read): stop reading until it has run, so the wait is bounded in memory.
   */
  protected abstract stall(on: boolean): void;

  run(item: T): void {
    if (this.held) {
      this.held.push(item);
      if (this.held.length >= MAX_HELD) this.stall(true);
      return;
    }
    let result: void | Promise<void>;
    try {
      result = this.handle(item);
    } catch (err) {
      this.failed(err, item);
      return;
    }
    if (result instanceof Promise) {
      this.held = [];
      result
        .catch((err: unknown) => this.failed(err, item))
        .finally(() => {
          const waiting = this.held ?? [];
          this.held = null;
          if (waiting.length >= MAX_HELD) this.stall(false);
          // run() holds the rest again if one of these goes async.
          for (const next of waiting) this.run(next);
        });
    }
  }
}
