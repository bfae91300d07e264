/**
 * Keeps one sender's room events in the order they were sent while they are sequenced.
 *
 * The room's offset is given by a script on the Redis that serves the room, and two
 * scripts sent one after the other are run in that order only while nothing sends one of
 * them again: a `MOVED` after a failover or a slot move (node-redis sends the script to
 * the new owner when the reply comes back, after a later one may have gone there
 * directly), or a `NOSCRIPT` answered with `EVAL`. Then a sender's messages could take
 * offsets out of the order typed (every reader still sees one order, but not the
 * sender's). So a sender has at most one batch of scripts in flight per room: what it
 * sends meanwhile waits and goes, in order, as the next batch once every script of the
 * batch before has its answer (or its error).
 *
 * Messages are batched (a pasted paragraph is one round trip, not one per line); any
 * other event (a join, a part, a rename) goes alone, since its script may be preceded by
 * another command (the join's rooms-set note) and would otherwise be overtaken within
 * the batch. A sender who sends nothing while its last script is in flight pays nothing.
 */
export class SenderOrder {
  private readonly lanes = new Map<string, Lane>();

  /** Number of senders with something in flight or waiting (for tests and leaks). */
  get busy(): number {
    return this.lanes.size;
  }

  /**
   * Runs `start` once everything `key` sent before has settled, or at once beside the
   * other messages of the batch in flight when none of it is waiting behind a barrier.
   */
  run<T>(key: string, batchable: boolean, start: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        batchable,
        go: () => {
          let p: Promise<T>;
          try {
            p = start();
          } catch (err) {
            p = Promise.reject(err instanceof Error ? err : new Error(String(err)));
          }
          return p.then(resolve, reject);
        },
      };
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { inFlight: 0, waiting: [] };
        this.lanes.set(key, lane);
      }
      lane.waiting.push(job);
      if (lane.inFlight === 0) this.pump(key, lane);
    });
  }

  /** Starts the next batch: one barrier, or every message up to the next barrier. */
  private pump(key: string, lane: Lane): void {
    const first = lane.waiting.shift();
    if (!first) {
      this.lanes.delete(key);
      return;
    }
    const batch = [first];
    if (first.batchable) {
      while (lane.waiting[0]?.batchable) batch.push(lane.waiting.shift() as Job);
    }
    lane.inFlight = batch.length;
    for (const job of batch) {
      void job.go().then(() => {
        if (--lane.inFlight === 0) this.pump(key, lane);
      });
    }
  }
}

interface Job {
  batchable: boolean;
  /** Starts the work; settles (never rejects) when it has. */
  go(): Promise<void>;
}

interface Lane {
  inFlight: number;
  waiting: Job[];
}
