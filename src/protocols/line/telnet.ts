/**
 * Telnet option negotiation, pure (no I/O): the RFC 1143 "Q method" state machine for both
 * sides of every option, and the parsers of the subnegotiations we ask for (NAWS, RFC 1073;
 * TERMINAL-TYPE, RFC 1091). Every method returns the bytes to send, or null.
 *
 * The Q method never answers a message that confirms the state an option is already in
 * (WILL for an option that is on, WONT for one that is off), so two conforming peers cannot
 * loop, and it queues a change asked for while a negotiation is under way instead of sending
 * a second request. A refusal (DONT to a WILL, WONT to a DO for an option we do not support)
 * is still answered: RFC 854 requires it, and the peer waits for it.
 */

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;

/** Two-byte commands the client sends for its interrupt, quit and flush keys (RFC 854). */
export const Command = {
  EOR: 239,
  SE: 240,
  NOP: 241,
  DM: 242,
  BRK: 243,
  IP: 244,
  AO: 245,
  AYT: 246,
  EC: 247,
  EL: 248,
  GA: 249,
  ABORT: 238,
  SUSP: 237,
  EOF: 236,
} as const;

export const Option = {
  BINARY: 0, // RFC 856
  ECHO: 1, // RFC 857
  SGA: 3, // RFC 858, suppress go-ahead
  TM: 6, // RFC 860, timing mark
  TTYPE: 24, // RFC 1091, terminal type
  NAWS: 31, // RFC 1073, negotiate about window size
} as const;

export type Verb = typeof DO | typeof DONT | typeof WILL | typeof WONT;

// RFC 1143 section 7: each side of an option is NO, YES, WANTNO or WANTYES (we asked and
// wait for the answer), with a queue bit for a change asked for during a negotiation. We only
// ever ask to enable options, never to disable one, so only NO, WANTYES and YES occur here
// and the queue bit is never set; the rules below are RFC 1143's for those states.
const NO = 0;
const YES = 1;
const WANTYES = 2;

/** Which options we agree to: the ones we perform (WILL) and the ones we let the peer perform. */
export interface OptionPolicy {
  us(option: number): boolean;
  him(option: number): boolean;
}

/** An option that a received negotiation turned on or off, for the caller to act on. */
export interface Change {
  side: 'us' | 'him';
  option: number;
  enabled: boolean;
}

export interface Outcome {
  reply: Buffer | null;
  change: Change | null;
}

// One shared, never-changed Buffer per command: a client that floods requests costs no
// allocation per answer.
const commands: (Buffer | undefined)[] = [];

function command(verb: number, option: number): Buffer {
  return (commands[(verb - WILL) * 256 + option] ??= Buffer.from([IAC, verb, option]));
}

const NOTHING: Outcome = { reply: null, change: null };

export class TelnetOptions {
  // One byte per option and side; 512 bytes, allocated only for telnet clients.
  private readonly usState = new Uint8Array(256);
  private readonly himState = new Uint8Array(256);
  /** Our requests not answered yet (options in WANTYES). */
  private pending = 0;

  constructor(private readonly policy: OptionPolicy) {}

  /** True while a request of ours waits for its answer. */
  get waiting(): boolean {
    return this.pending > 0;
  }

  usEnabled(option: number): boolean {
    return this.usState[option] === YES;
  }

  himEnabled(option: number): boolean {
    return this.himState[option] === YES;
  }

  /** A DO, DONT, WILL or WONT from the peer. */
  receive(verb: Verb, option: number): Outcome {
    switch (verb) {
      case WILL:
        return this.onYes(this.himState, 'him', option, this.policy.him(option), DO, DONT);
      case WONT:
        return this.onNo(this.himState, 'him', option, DONT);
      case DO:
        return this.onYes(this.usState, 'us', option, this.policy.us(option), WILL, WONT);
      case DONT:
        return this.onNo(this.usState, 'us', option, WONT);
    }
  }

  /** Asks the peer to perform an option (sends DO), unless it already does or we asked. */
  askHim(option: number): Buffer | null {
    return this.ask(this.himState, option, DO);
  }

  /** Offers to perform an option (sends WILL), unless we already do or offered. */
  offer(option: number): Buffer | null {
    return this.ask(this.usState, option, WILL);
  }

  /** Upon receipt of WILL (his side) or DO (our side). */
  private onYes(
    table: Uint8Array,
    side: Change['side'],
    option: number,
    agree: boolean,
    yes: number,
    no: number,
  ): Outcome {
    switch (table[option]) {
      case NO:
        if (!agree) return { reply: command(no, option), change: null };
        table[option] = YES;
        return { reply: command(yes, option), change: { side, option, enabled: true } };
      case WANTYES: // the answer to our request: no reply
        table[option] = YES;
        this.pending--;
        return { reply: null, change: { side, option, enabled: true } };
      default: // YES: already on, and answering again is how negotiation loops start
        return NOTHING;
    }
  }

  /** Upon receipt of WONT (his side) or DONT (our side). */
  private onNo(table: Uint8Array, side: Change['side'], option: number, no: number): Outcome {
    switch (table[option]) {
      case YES: // turned off: acknowledge (RFC 854 requires it)
        table[option] = NO;
        return { reply: command(no, option), change: { side, option, enabled: false } };
      case WANTYES: // our request refused: no reply
        table[option] = NO;
        this.pending--;
        return NOTHING;
      default: // NO: already off
        return NOTHING;
    }
  }

  /** "If we decide to ask him to enable" / "to enable an option locally". */
  private ask(table: Uint8Array, option: number, yes: number): Buffer | null {
    if (table[option] !== NO) return null; // on already, or asked and waiting
    table[option] = WANTYES;
    this.pending++;
    return command(yes, option);
  }
}

// ---- subnegotiations -------------------------------------------------------------------------

/** Window size from `IAC SB NAWS w1 w0 h1 h0 IAC SE` (RFC 1073); 0 means unknown. */
export function parseNaws(data: Buffer): { width: number; height: number } | null {
  if (data.length !== 4) return null;
  return { width: data.readUInt16BE(0), height: data.readUInt16BE(2) };
}

const TTYPE_IS = 0;
const TTYPE_SEND = 1;
/** RFC 1091: "The maximum length of a terminal type name is 40 characters." */
const MAX_TERMINAL_TYPE = 40;

/** `IAC SB TERMINAL-TYPE SEND IAC SE`: asks for the name (RFC 1091). */
export const TERMINAL_TYPE_SEND = Buffer.from([IAC, SB, Option.TTYPE, TTYPE_SEND, IAC, SE]);

/** The name from `IAC SB TERMINAL-TYPE IS name IAC SE`, or null if malformed. */
export function parseTerminalType(data: Buffer): string | null {
  if (data.length < 2 || data.length > MAX_TERMINAL_TYPE + 1 || data[0] !== TTYPE_IS) return null;
  // RFC 1091: the name is NVT ASCII; anything outside printable ASCII is not a name.
  for (let i = 1; i < data.length; i++) {
    const b = data[i] as number;
    if (b < 0x21 || b > 0x7e) return null;
  }
  return data.toString('latin1', 1).toLowerCase();
}
