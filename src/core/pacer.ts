/**
 * Large replies (history pages, the lines of a big room's WHO or NAMES) are sent as the
 * client reads them: pieces go out while little is waiting for the connection, and the
 * rest waits until it drains. So a client asking for 1,000 lines and never reading costs
 * a bounded amount of memory, and one that reads gets everything, however large, without
 * being evicted for the size of its own answer.
 */
import type { Session } from './session.js';

/** Below this many waiting bytes the next piece goes out (a fraction of the send limit). */
export function lowWater(limit: number): number {
  return Math.max(4096, Math.floor(limit / 4));
}

export function sendPaced(s: Session, pieces: Iterable<Buffer>, limit?: number): Promise<void> {
  const low = lowWater(limit ?? 256 * 1024);
  const it = pieces[Symbol.iterator]();
  return new Promise((resolve) => {
    const pump = (): void => {
      while (!s.closed) {
        if (s.conn.pendingBytes() >= low) {
          s.conn.whenDrained(pump);
          return;
        }
        const next = it.next();
        if (next.done) break;
        s.send(next.value);
      }
      resolve();
    };
    pump();
  });
}
