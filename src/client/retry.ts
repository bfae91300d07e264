/**
 * When the terminal client tries the server again after losing it. The first try comes
 * quickly (a restart or a network blip is usually over within a second), then the wait
 * doubles up to a cap so a server that stays down is not hammered. Each wait is shortened
 * by up to a fifth at random, so the clients of one restarted server do not all come back
 * in the same instant, and never exceeds the schedule: what the README promises and what
 * the client announces ("next try in 1.8 s") are the waits that really happen.
 */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 15_000;
/** The random part: each wait is between 80 % and 100 % of its step. */
const JITTER = 0.2;

/** The wait before try number `attempt` (0 is the first): 0.5, 1, 2, 4, 8, 15, 15 … s. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, attempt));
  return Math.round(step * (1 - JITTER * random()));
}

export interface RetryOptions {
  /** How a wait is spent; tests inject their own clock. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Checked after every wait: true gives up (the user quit meanwhile). */
  stopped?: () => boolean;
  /** Told before every wait, with why the previous try failed (null before the first). */
  onWait?: (delayMs: number, failure: Error | null) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` on the schedule until it succeeds (true) or `stopped` says so (false). */
export async function retryUntil(
  attempt: () => Promise<void>,
  options: RetryOptions = {},
): Promise<boolean> {
  const { sleep = realSleep, random = Math.random, stopped = () => false } = options;
  let failure: Error | null = null;
  for (let n = 0; ; n++) {
    const delay = retryDelay(n, random);
    options.onWait?.(delay, failure);
    await sleep(delay);
    if (stopped()) return false;
    try {
      await attempt();
      return true;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
  }
}

/** "0.4 s", "15 s": how the client says a wait. */
export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
