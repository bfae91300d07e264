/**
 * The telnet side of one line-protocol connection, pure: whether the client is a telnet
 * client at all, what we ask of it, and what it told us (window size, terminal type).
 * Methods return the bytes to send; the connection sends them through the session's bounded
 * send queue.
 *
 * netcat prints every byte it receives, so nothing here sends a telnet command before the
 * client has shown it is a telnet NVT. Debian's telnet (inetutils) does not negotiate on a
 * port other than 23, so the evidence is one of:
 * - the client sent a telnet command itself (telnet does for its interrupt and quit keys,
 *   and for bytes such as 0x83 and 0x9C that it takes for them outside binary mode);
 * - it ended a line with CR NUL, which only an NVT sends (RFC 854);
 * - it ended a line with CR LF, as telnet does, but so does `nc -C`. We then send our
 *   requests once, right after that line, when the client's cursor is at the start of an
 *   empty line, followed by a carriage return and spaces: a terminal running `nc -C` draws
 *   the bytes and at once overwrites them, so nothing is left on the screen; telnet takes
 *   the requests and answers. A client that does not answer is never sent another.
 *
 * We ask the client to send 8-bit data (DO BINARY, RFC 856: without it Debian's telnet turns
 * UTF-8 bytes it mistakes for its control keys into telnet commands) and offer the same
 * (WILL BINARY); we ask for the window size (DO NAWS, RFC 1073) and the terminal type (DO
 * TERMINAL-TYPE, RFC 1091), and that it suppress go-aheads (DO SGA, RFC 858). We do not offer
 * WILL SGA or WILL ECHO: Debian's telnet takes either as the switch to character-at-a-time
 * mode, where it stops editing lines locally, and a line chat needs its line editing.
 */
import type { TokenBucket } from '../../core/flood.js';
import {
  Command,
  Option,
  TERMINAL_TYPE_SEND,
  TelnetOptions,
  parseNaws,
  parseTerminalType,
  type Verb,
} from './telnet.js';

/** What we agree to: 8-bit both ways; from the peer also its window size and terminal type. */
const policy = {
  us: (o: number) => o === Option.BINARY,
  him: (o: number) =>
    o === Option.BINARY || o === Option.SGA || o === Option.NAWS || o === Option.TTYPE,
};

/**
 * Drawn over the requests on a terminal that shows them (`nc -C`): each request is three
 * bytes, of which IAC and the verb are invalid UTF-8 and show as one or (East Asian
 * ambiguous width) two columns each, the option byte is a control character and shows none.
 * A CR NUL is a bare carriage return in NVT terms (RFC 854).
 */
function hidden(requests: Buffer): Buffer {
  const columns = Math.ceil((requests.length * 2) / 3) * 2;
  return Buffer.concat([requests, Buffer.from(`\r\0${' '.repeat(columns)}\r\0`, 'latin1')]);
}

/** Commands telnet sends for keys it traps locally (interrupt, quit, flush, ...). */
const TRAPPED_KEYS = new Set<number>([
  Command.IP,
  Command.BRK,
  Command.AO,
  Command.ABORT,
  Command.SUSP,
  Command.EOF,
]);

export type PeerMode =
  /** Nothing sent: maybe netcat. */
  | 'unknown'
  /** Requests sent once after a CR LF line; no answer yet. */
  | 'probed'
  /** The client speaks telnet. */
  | 'telnet';

/** What the connection is to do about one telnet item. */
export interface PeerAction {
  /** Bytes to send, or null. */
  send: Buffer | null;
  /** The window size changed (see `width`). */
  resized: boolean;
  /** The client told its terminal type (see `terminalType`). */
  terminalType?: boolean;
  /** The client asked for more answers than its budget allows: close the connection. */
  flood: boolean;
}

function action(send: Buffer | null, resized = false): PeerAction {
  return { send, resized, flood: false };
}

const FLOOD: PeerAction = { send: null, resized: false, flood: true };

export class TelnetPeer {
  mode: PeerMode = 'unknown';
  /** Window size from NAWS; 0 when unknown. */
  width = 0;
  height = 0;
  terminalType: string | null = null;
  private options: TelnetOptions | null = null;
  /** A trapped-key command came in the middle of the line being read, outside binary mode. */
  private mangling = false;

  /** `budget` pays for every answer a client's request needs (each takes one token). */
  constructor(private readonly budget: TokenBucket) {}

  /** Requests of ours are out and not all answered (a client that never answers stays so). */
  get waiting(): boolean {
    return this.options !== null && this.options.waiting;
  }

  /** We send 8-bit output (the client agreed to our WILL BINARY). */
  get binaryOutput(): boolean {
    return this.options !== null && this.options.usEnabled(Option.BINARY);
  }

  /** The client sends 8-bit input (it agreed to our DO BINARY). */
  get binaryInput(): boolean {
    return this.options !== null && this.options.himEnabled(Option.BINARY);
  }

  /**
   * The client ended a line with CR LF or CR NUL. `fresh`: that line was read in the same
   * chunk and not yet answered, so the client's cursor is at the start of an empty line
   * (where a probe can be hidden). Returns the bytes to send before answering the line.
   */
  lineEnd(ending: 'crlf' | 'crnul', fresh: boolean): Buffer | null {
    if (this.mode !== 'unknown') return null;
    if (ending === 'crnul') return this.becomeTelnet();
    if (!fresh) return null; // the next CR LF line will do
    this.mode = 'probed';
    return hidden(this.requests());
  }

  /** A DO, DONT, WILL or WONT from the client. */
  negotiate(verb: Verb, option: number): PeerAction {
    const first = this.becomeTelnet();
    const { reply, change } = (this.options as TelnetOptions).receive(verb, option);
    if (reply !== null && !this.budget.take()) return FLOOD;
    let send = join(first, reply);
    let resized = false;
    if (change !== null && change.side === 'him') {
      if (change.option === Option.TTYPE && change.enabled) send = join(send, TERMINAL_TYPE_SEND);
      if (change.option === Option.NAWS && !change.enabled && this.width + this.height > 0) {
        this.width = this.height = 0;
        resized = true;
      }
    }
    return action(send, resized);
  }

  /** A subnegotiation (RFC 855); only for an option the client has enabled. */
  subnegotiation(option: number, data: Buffer): PeerAction {
    const first = this.becomeTelnet();
    if (!(this.options as TelnetOptions).himEnabled(option)) return action(first);
    if (option === Option.NAWS) {
      const size = parseNaws(data);
      if (size === null || (size.width === this.width && size.height === this.height)) {
        return action(first);
      }
      this.width = size.width;
      this.height = size.height;
      return action(first, true);
    }
    if (option === Option.TTYPE) {
      const name = parseTerminalType(data);
      if (name !== null) {
        this.terminalType = name;
        return { send: first, resized: false, flood: false, terminalType: true };
      }
    }
    return action(first);
  }

  /** A two-byte command (IP, AYT, NOP, ...): bytes to send (our requests, the first time). */
  command(code: number): Buffer | null {
    if (TRAPPED_KEYS.has(code) && !this.binaryInput) this.mangling = true;
    return this.becomeTelnet();
  }

  /**
   * A line was read. True when telnet had turned some of its bytes into commands (a trapped
   * key inside a line that then holds invalid UTF-8): the line is not what was typed.
   */
  lineMangled(text: string): boolean {
    if (!this.mangling) return false;
    this.mangling = false;
    return text.includes('\uFFFD');
  }

  /** The client speaks telnet: our requests, unless the probe sent them already. */
  private becomeTelnet(): Buffer | null {
    if (this.mode === 'telnet') return null;
    const probed = this.mode === 'probed';
    this.mode = 'telnet';
    return probed ? null : this.requests();
  }

  private requests(): Buffer {
    const o = (this.options ??= new TelnetOptions(policy));
    const parts = [
      o.askHim(Option.BINARY),
      o.offer(Option.BINARY),
      o.askHim(Option.SGA),
      o.askHim(Option.NAWS),
      o.askHim(Option.TTYPE),
    ].filter((b): b is Buffer => b !== null);
    return Buffer.concat(parts);
  }
}

function join(a: Buffer | null, b: Buffer | null): Buffer | null {
  if (a === null) return b;
  if (b === null) return a;
  return Buffer.concat([a, b]);
}
