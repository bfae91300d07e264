/** Small figures helpers. */

/** The q-quantile (0..1) of the values, nearest rank; 0 for none. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

export const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `n` async workers over a shared counter until `count` jobs ran or `stop()` says so. */
export async function pool(
  workers: number,
  count: number,
  job: (i: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count && !stop()) await job(next++);
    }),
  );
  return next;
}
