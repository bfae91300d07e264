/**
 * Per-connection IRC state, kept in `Session.proto`. The enabled capabilities are not here
 * but in `Session.caps`, which the encoder reads on every delivery.
 */
import type { SeenPositions } from '../../core/resume.js';

export interface IrcState {
  /** CAP LS version the client announced (301 when it gave none, 302 with values). */
  capVersion: number;
  /** Registration waits for CAP END once the client started negotiating (CAP LS/REQ). */
  capHold: boolean;
  /** The connection password PASS gave, or null (RFC 2812 3.1.1). */
  password: string | null;
  /** USER was received (RFC 2812 3.1.3): registration needs NICK and USER. */
  gotUser: boolean;
  /** Time of the last input line, for the keepalive PING. */
  lastInput: number;
  /** A PING we sent is waiting for any input. */
  pingSent: number;
  /** SASL exchange in progress: the mechanism chosen and the base64 received so far. */
  sasl: { mechanism: string; data: string } | null;
  /**
   * Where the last session with this nick stopped reading, per room (loaded once
   * registered; each room's entry is used by its first JOIN, see replay.ts), or null.
   */
  seen: SeenPositions | null;
}

export function newState(now: number): IrcState {
  return {
    capVersion: 0,
    capHold: false,
    password: null,
    gotUser: false,
    lastInput: now,
    pingSent: 0,
    sasl: null,
    seen: null,
  };
}
