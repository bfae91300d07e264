/**
 * Line-protocol input decoder: pure, no I/O. Splits a byte stream into lines at LF, CRLF
 * or CR (telnet sends CR NUL), takes telnet commands out of the stream (RFC 854/855) and
 * hands them on as items, bounds line length, and decodes UTF-8 with U+FFFD for invalid
 * bytes. Feeding the same bytes split at any points yields the same items.
 *
 * It decides nothing about telnet: the connection does (see telnet.ts), and it needs to know
 * how a client ends its lines, since only a telnet client may be sent negotiation bytes.
 */
import { DO, DONT, IAC, SB, SE, WILL, WONT, type Verb } from './telnet.js';

export type LineItem =
  | { kind: 'line'; text: string }
  /** The line was longer than the limit: its first part was kept, the rest discarded. */
  | { kind: 'overlong'; text: string }
  /** `IAC DO|DONT|WILL|WONT option`. */
  | { kind: 'negotiate'; verb: Verb; option: number }
  /** `IAC SB option data IAC SE`, data unescaped; longer than MAX_SUBNEGOTIATION: dropped. */
  | { kind: 'subnegotiation'; option: number; data: Buffer }
  /** A two-byte command: `IAC IP`, `IAC AYT`, `IAC NOP`, ... */
  | { kind: 'command'; code: number }
  /**
   * The last line ended with CR LF or CR NUL, as a telnet NVT ends lines (RFC 854): told
   * after that line's item, once the byte after the CR has arrived.
   */
  | { kind: 'line-end'; ending: 'crlf' | 'crnul' };

/** Longest subnegotiation kept: NAWS needs 4 bytes, a terminal type at most 41. */
export const MAX_SUBNEGOTIATION = 64;

/** RFC 854 commands are 240-254; RFC 885 and 1184 added EOR, ABORT, SUSP and EOF (236-239). */
const FIRST_COMMAND = 236;
const IAC_BYTE = Buffer.from([IAC]);
const CR = 13;
const LF = 10;
const NUL = 0;

const CRLF: LineItem = { kind: 'line-end', ending: 'crlf' };
const CRNUL: LineItem = { kind: 'line-end', ending: 'crnul' };

const enum State {
  Data,
  Iac,
  Option,
  SubOption,
  Sub,
  SubIac,
}

export class LineDecoder {
  /** Pieces of the current line; null between lines (no array kept per idle connection). */
  private parts: Buffer[] | null = null;
  private size = 0;
  private overflowed = false;
  private state = State.Data;
  private verb: Verb = DO;
  /** A CR ended the last line; a following LF or NUL belongs to it. */
  private afterCr = false;
  /** The subnegotiation being read; allocated on the first one. */
  private sub: Buffer | null = null;
  private subOption = 0;
  private subSize = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): LineItem[] {
    const out: LineItem[] = [];
    let start = 0; // start of the current run of plain data bytes in `chunk`
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      switch (this.state) {
        case State.Data:
          if (this.afterCr) {
            this.afterCr = false;
            if (b === LF || b === NUL) {
              out.push(b === LF ? CRLF : CRNUL);
              start = i + 1;
              continue;
            }
          }
          if (b === LF || b === CR) {
            this.take(chunk, start, i);
            this.emit(out);
            this.afterCr = b === CR;
            start = i + 1;
          } else if (b === IAC) {
            this.take(chunk, start, i);
            this.state = State.Iac;
          }
          break;
        case State.Iac:
          if (b === IAC) {
            // Escaped 0xFF data byte: invalid on its own in UTF-8, so it decodes to U+FFFD.
            this.take(IAC_BYTE, 0, 1);
            this.state = State.Data;
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = State.Option;
          } else if (b === SB) {
            this.state = State.SubOption;
          } else if (b >= FIRST_COMMAND) {
            out.push({ kind: 'command', code: b });
            this.state = State.Data;
          } else {
            // Not a telnet command (a 0xFF typed on a Latin-1 terminal, say): the IAC is
            // data, and this byte is read again as data (it may end the line).
            this.take(IAC_BYTE, 0, 1);
            this.state = State.Data;
            start = i;
            i--;
            break;
          }
          start = i + 1;
          break;
        case State.Option:
          out.push({ kind: 'negotiate', verb: this.verb, option: b });
          this.state = State.Data;
          start = i + 1;
          break;
        case State.SubOption:
          this.subOption = b;
          this.subSize = 0;
          this.state = State.Sub;
          start = i + 1;
          break;
        case State.Sub:
          if (b === IAC) this.state = State.SubIac;
          else this.subByte(b);
          start = i + 1;
          break;
        case State.SubIac:
          if (b === SE) {
            this.endSub(out);
            this.state = State.Data;
          } else {
            // IAC IAC is a data 0xFF; any other command inside a subnegotiation is ignored.
            if (b === IAC) this.subByte(b);
            this.state = State.Sub;
          }
          start = i + 1;
          break;
      }
    }
    if (this.state === State.Data) this.take(chunk, start, chunk.length);
    return out;
  }

  private subByte(b: number): void {
    // Past the bound the count goes on (so endSub knows to drop it) but nothing is kept.
    if (this.subSize < MAX_SUBNEGOTIATION) {
      (this.sub ??= Buffer.alloc(MAX_SUBNEGOTIATION))[this.subSize] = b;
    }
    this.subSize++;
  }

  private endSub(out: LineItem[]): void {
    if (this.subSize > MAX_SUBNEGOTIATION) return;
    // A copy: the buffer is reused for the next subnegotiation.
    const data =
      this.sub === null ? Buffer.alloc(0) : Buffer.from(this.sub.subarray(0, this.subSize));
    out.push({ kind: 'subnegotiation', option: this.subOption, data });
  }

  /** Appends chunk[from, to) to the current line, up to the limit. */
  private take(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    const room = this.maxBytes - this.size;
    if (to - from > room) {
      this.overflowed = true;
      to = from + Math.max(room, 0);
      if (to <= from) return;
    }
    (this.parts ??= []).push(chunk.subarray(from, to));
    this.size += to - from;
  }

  private emit(out: LineItem[]): void {
    const parts = this.parts;
    const text =
      parts === null
        ? ''
        : parts.length === 1
          ? (parts[0] as Buffer).toString('utf8')
          : Buffer.concat(parts, this.size).toString('utf8');
    const kind = this.overflowed ? 'overlong' : 'line';
    this.parts = null;
    this.size = 0;
    this.overflowed = false;
    out.push({ kind, text });
  }
}
