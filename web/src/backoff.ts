/**
 * Reconnect delays: quick at first (a server restart takes a second), doubling to a cap so
 * a thousand browsers do not hammer a server that is down, with jitter so they do not all
 * come back in the same instant.
 */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 30_000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const exact = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  // ±20 %: enough to spread a herd, small enough that the banner's countdown stays honest.
  return Math.round(exact * (0.8 + 0.4 * random()));
}
