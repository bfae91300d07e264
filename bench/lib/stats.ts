/** Small statistics helpers: medians across runs, percentiles across latency samples. */

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1
    ? (v[mid] as number)
    : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** Nearest-rank percentile of an already sorted array (p in 0..100). */
export function percentileSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** A growable array of doubles that stops growing at a cap instead of exhausting memory. */
export class SampleBuffer {
  private data = new Float64Array(1 << 16);
  private n = 0;
  dropped = 0;

  constructor(private readonly cap: number) {}

  push(x: number): void {
    if (this.n === this.data.length) {
      if (this.n >= this.cap) {
        this.dropped++;
        return;
      }
      const bigger = new Float64Array(Math.min(this.cap, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = x;
  }

  get length(): number {
    return this.n;
  }

  clear(): void {
    this.n = 0;
    this.dropped = 0;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.n).sort();
  }
}
