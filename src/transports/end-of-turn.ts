/**
 * One flush per link at the end of the event-loop turn (setImmediate runs after the poll
 * phase has read every socket that was ready): links gather what a turn writes and hand
 * it over once. Shared by every transport's link, so a turn schedules one callback.
 */
export interface Flushable {
  flush(): void;
}

const dirty: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  // Take the list first: flushing can run callbacks that write again.
  const batch = dirty.splice(0, dirty.length);
  for (const link of batch) link.flush();
}

/** Asks for `link.flush()` at the end of this turn; call once per turn, on its first write. */
export function flushAtEndOfTurn(link: Flushable): void {
  dirty.push(link);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
