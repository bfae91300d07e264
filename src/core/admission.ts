/**
 * Connection admission: how many sockets one address, and all addresses together, may
 * hold at once. Pure bookkeeping, no I/O: a listener asks `admit(address)` when it has
 * accepted a socket and calls `release(address)` when that socket's descriptor is closed
 * (the socket's 'close' event), not when the chat session on it ends. A session ends
 * before its socket does (the server half-closes and lingers, see
 * transports/linger.ts), and a limit that forgot the socket at that moment let a peer
 * that never closes hold descriptors without bound.
 *
 * The chat listeners (TCP and WebSocket) share one Admission; the HTTP listener has its
 * own, with its own limits, so that a full chat server still answers /healthz.
 */

export interface AdmissionLimits {
  /** Sockets held at once in all. */
  maxTotal: number;
  /** Sockets held at once by one address, unless `exempt` says otherwise. */
  maxPerAddress: number;
  /** Addresses the per-address limit does not apply to (the total still does). */
  exempt?: (address: string) => boolean;
  /** Words for the refusals (they reach the peer). */
  reasons?: { full: string; perAddress: string };
}

export const ADMISSION_REASONS = {
  full: 'server full',
  perAddress: 'too many connections from your address',
} as const;

export class Admission {
  private readonly perAddress = new Map<string, number>();
  private open = 0;
  /** Refusals so far, by cause (for /metrics and the admin `stats`). */
  refusedFull = 0;
  refusedPerAddress = 0;
  private readonly reasons: { full: string; perAddress: string };

  constructor(readonly limits: AdmissionLimits) {
    this.reasons = limits.reasons ?? ADMISSION_REASONS;
  }

  /**
   * Counts a socket from `address` and returns null, or returns why it may not be held
   * (then nothing is counted and `release` must not be called for it).
   */
  admit(address: string): string | null {
    if (this.open >= this.limits.maxTotal) {
      this.refusedFull++;
      return this.reasons.full;
    }
    const held = this.perAddress.get(address) ?? 0;
    if (held >= this.limits.maxPerAddress && !(this.limits.exempt?.(address) ?? false)) {
      this.refusedPerAddress++;
      return this.reasons.perAddress;
    }
    this.perAddress.set(address, held + 1);
    this.open++;
    return null;
  }

  /** Forgets one admitted socket of `address` (its descriptor is closed). */
  release(address: string): void {
    const held = this.perAddress.get(address);
    if (held === undefined) return; // never admitted, or already released: not ours to count
    if (held <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, held - 1);
    this.open--;
  }

  /** Sockets held now, in all. */
  get total(): number {
    return this.open;
  }

  /** Sockets `address` holds now. */
  heldBy(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Distinct addresses holding sockets now. */
  get addresses(): number {
    return this.perAddress.size;
  }
}
