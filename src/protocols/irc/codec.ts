/**
 * IRC message codec: pure parse and serialize of one line, and a byte-stream splitter.
 * No I/O, so it is fuzzed with fast-check and fed one byte at a time in tests.
 *
 * Grammar: RFC 1459 section 2.3.1 as the modern reference states it
 * (modern.ircdocs.horse, "Message format"), with IRCv3 message tags
 * (ircv3.net/specs/extensions/message-tags): `[@tags SP] [:source SP] command params`.
 */

export interface IrcMessage {
  /** Tag values unescaped; a tag without a value has the value ''. */
  tags: Record<string, string>;
  source: string | null;
  command: string;
  params: string[];
}

/** Without tags, a line is at most 512 bytes including CR LF (RFC 1459 2.3). */
export const MAX_LINE_BYTES = 512;
/**
 * Tags a client may send: 4094 bytes of tag data plus the '@' and the space
 * (message-tags, "Size limit"); longer tag sections get ERR_INPUTTOOLONG.
 */
export const MAX_CLIENT_TAG_BYTES = 4096;
/** What a server may send: 8191 bytes of tags including '@' and space. */
export const MAX_SERVER_TAG_BYTES = 8191;

const TAG_ESCAPES: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

/** message-tags "Escaping values": \: \s \\ \r \n; any other escaped char stands for itself. */
export function unescapeTag(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = value[++i];
    if (next === undefined) break; // a lone trailing backslash is dropped
    out += TAG_ESCAPES[next] ?? next;
  }
  return out;
}

export function escapeTag(value: string): string {
  return value.replace(/[;\s\\]/g, (c) => {
    switch (c) {
      case ';':
        return '\\:';
      case ' ':
        return '\\s';
      case '\\':
        return '\\\\';
      case '\r':
        return '\\r';
      case '\n':
        return '\\n';
      default:
        return c;
    }
  });
}

export function parseTags(raw: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of raw.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (key === '' || key === '__proto__') continue;
    // Later duplicates win (message-tags: "the last one MUST be used").
    tags[key] = eq < 0 ? '' : unescapeTag(part.slice(eq + 1));
  }
  return tags;
}

export function serializeTags(tags: Record<string, string>): string {
  let out = '';
  for (const key of Object.keys(tags)) {
    const value = tags[key] as string;
    if (out) out += ';';
    out += value === '' ? key : `${key}=${escapeTag(value)}`;
  }
  return out;
}

/** Parses one line (without CR LF). Returns null for a line with no command. */
export function parse(line: string): IrcMessage | null {
  let i = 0;
  const n = line.length;
  const skipSpaces = (): void => {
    while (i < n && line[i] === ' ') i++;
  };
  const word = (): string => {
    const start = i;
    while (i < n && line[i] !== ' ') i++;
    return line.slice(start, i);
  };
  skipSpaces();
  let tags: Record<string, string> = {};
  if (line[i] === '@') {
    i++;
    tags = parseTags(word());
    skipSpaces();
  }
  let source: string | null = null;
  if (line[i] === ':') {
    i++;
    source = word();
    skipSpaces();
  }
  const command = word();
  if (command === '') return null;
  const params: string[] = [];
  for (;;) {
    skipSpaces();
    if (i >= n) break;
    if (line[i] === ':') {
      params.push(line.slice(i + 1));
      break;
    }
    params.push(word());
  }
  return { tags, source, command, params };
}

/**
 * Serializes a message (without CR LF). The last parameter gets a ':' when it must
 * (empty, has a space, starts with ':'); `forceTrailing` adds it anyway, as servers
 * conventionally do for free text.
 */
export function serialize(m: IrcMessage, forceTrailing = false): string {
  let out = '';
  const tags = serializeTags(m.tags);
  if (tags) out += `@${tags} `;
  if (m.source !== null) out += `:${m.source} `;
  out += m.command;
  const last = m.params.length - 1;
  for (let p = 0; p < m.params.length; p++) {
    const param = m.params[p] as string;
    const trailing =
      p === last && (forceTrailing || param === '' || param.includes(' ') || param.startsWith(':'));
    out += trailing ? ` :${param}` : ` ${param}`;
  }
  return out;
}

export type SplitItem =
  | { kind: 'line'; line: string }
  /** A line over the limits (ERR_INPUTTOOLONG 417); its content was discarded. */
  | { kind: 'toolong' };

/**
 * Splits a byte stream into lines. CR and LF both end a line (clients send CRLF, some
 * only LF); empty lines are ignored (RFC 1459 2.3.1). Bytes are decoded as UTF-8 with
 * U+FFFD for invalid sequences, so junk never closes the connection. A line whose tag
 * section passes MAX_CLIENT_TAG_BYTES or whose rest passes 510 bytes is reported as
 * `toolong`; the splitter never holds more than one line's worth of bytes.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overflow = false;
  private readonly maxBuffered = MAX_CLIENT_TAG_BYTES + MAX_LINE_BYTES;

  push(chunk: Buffer): SplitItem[] {
    const out: SplitItem[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b !== 10 && b !== 13) continue;
      this.take(chunk.subarray(start, i));
      start = i + 1;
      this.finish(out);
    }
    this.take(chunk.subarray(start));
    return out;
  }

  private take(bytes: Buffer): void {
    if (bytes.length === 0 || this.overflow) return;
    if (this.size + bytes.length > this.maxBuffered) {
      this.overflow = true;
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  private finish(out: SplitItem[]): void {
    if (this.overflow) {
      this.overflow = false;
      out.push({ kind: 'toolong' });
      return;
    }
    if (this.size === 0) return;
    const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    out.push(
      checkLength(bytes) ? { kind: 'line', line: bytes.toString('utf8') } : { kind: 'toolong' },
    );
  }
}

/** Whether a line (bytes, no CR LF) is within both limits. */
function checkLength(bytes: Buffer): boolean {
  let tagBytes = 0;
  if (bytes[0] === 0x40 /* @ */) {
    const space = bytes.indexOf(0x20);
    tagBytes = space < 0 ? bytes.length : space + 1;
    if (tagBytes > MAX_CLIENT_TAG_BYTES) return false;
  }
  return bytes.length - tagBytes <= MAX_LINE_BYTES - 2;
}
