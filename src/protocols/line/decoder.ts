/**
 * Line-protocol input decoder: pure, no I/O. Splits a byte stream into lines at LF, CRLF
 * or CR (telnet sends CR NUL), strips telnet IAC negotiation (answering DO/WILL with a
 * refusal, RFC 854/855), bounds line length, and decodes UTF-8 with U+FFFD for invalid
 * bytes. Feeding the same bytes split at any points yields the same items.
 */

export type LineItem =
  | { kind: 'line'; text: string }
  /** The line was longer than the limit: its first part was kept, the rest discarded. */
  | { kind: 'overlong'; text: string }
  /** Bytes to send back for telnet option negotiation. */
  | { kind: 'telnet'; reply: Buffer };

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const CR = 13;
const LF = 10;
const NUL = 0;

const enum State {
  Data,
  Iac,
  Option,
  Sub,
  SubIac,
}

export class LineDecoder {
  /** Pieces of the current line; null between lines (no array kept per idle connection). */
  private parts: Buffer[] | null = null;
  private size = 0;
  private overflowed = false;
  private state = State.Data;
  private verb = 0;
  /** A CR ended the last line; a following LF or NUL belongs to it. */
  private afterCr = false;

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
            this.take(Buffer.from([IAC]), 0, 1);
            this.state = State.Data;
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = State.Option;
          } else if (b === SB) {
            this.state = State.Sub;
          } else {
            this.state = State.Data; // NOP, GA, AYT, ...: two-byte commands we ignore
          }
          start = i + 1;
          break;
        case State.Option:
          // Refuse every option: we are a plain NVT and never change modes.
          if (this.verb === DO) out.push({ kind: 'telnet', reply: Buffer.from([IAC, WONT, b]) });
          else if (this.verb === WILL)
            out.push({ kind: 'telnet', reply: Buffer.from([IAC, DONT, b]) });
          this.state = State.Data;
          start = i + 1;
          break;
        case State.Sub:
          if (b === IAC) this.state = State.SubIac;
          start = i + 1;
          break;
        case State.SubIac:
          this.state = b === SE ? State.Data : State.Sub;
          start = i + 1;
          break;
      }
    }
    if (this.state === State.Data) this.take(chunk, start, chunk.length);
    return out;
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
