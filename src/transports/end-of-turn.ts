/**
 * One flush per link at the end of the event-loop turn (setImmediate runs after the poll
 * phase has read every socket that was ready): links gather what a turn writes and hand
 * it over once. Shared by every transport's link, so a turn schedules one callback.
 *
 * Turns are numbered, and a link may write a turn's first bytes straight to the kernel
 * (SocketLink.write) while it is still in the CPU cache, rather than touch it again at the
 * end of the turn. That pays off when a turn carries about one event per link (ordinary
 * chat) and costs system calls when links get several (a burst: each would be a write of
 * its own plus the gathered rest), so the turns are watched: after a turn in which links
 * were written to again and again, the next turn gathers everything.
 */
export interface Flushable {
  flush(): void;
}

const dirty: Flushable[] = [];
let scheduled = false;
let turn = 1;
/** This turn's writes that were a link's first of the turn, and those that were not. */
let firsts = 0;
let repeats = 0;
let straight = true;

function flushAll(): void {
  scheduled = false;
  turn++;
  straight = repeats * 4 <= firsts;
  firsts = 0;
  repeats = 0;
  // Take the list first: flushing can run callbacks that write again.
  const batch = dirty.splice(0, dirty.length);
  for (const link of batch) link.flush();
}

function endTurnLater(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

/** Asks for `link.flush()` at the end of this turn; call once per turn, on its first write. */
export function flushAtEndOfTurn(link: Flushable): void {
  dirty.push(link);
  endTurnLater();
}

/** The current turn's number; it changes when the turn ends. */
export function currentTurn(): number {
  return turn;
}

/**
 * Counts one write towards the burst measure; `again` when the link was already written
 * to this turn. Returns whether a first write may go straight to the kernel this turn.
 */
export function countWrite(again: boolean): boolean {
  if (again) {
    repeats++;
  } else {
    firsts++;
    // The count is settled when the turn ends: make sure it does.
    endTurnLater();
  }
  return straight;
}
