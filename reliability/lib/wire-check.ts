/**
 * Checks every line or frame one client received against its wire format's grammar and
 * the cleaning rule (lib/hostile.ts): line protocol (CRLF lines of UTF-8), IRC (RFC 1459
 * §2.3.1 message grammar with IRCv3 message tags, 512 bytes without tags), JSON (framed
 * and WebSocket). Violations are kept with the offending text made visible and the
 * marker of the hostile string that caused it, when there is one.
 */
import { firstUnsafe, LONE_SURROGATE, UNSAFE_NAME, UNSAFE_TEXT, visible } from './hostile.js';

export type Wire = 'line' | 'irc' | 'json';

export interface Violation {
  observer: string;
  kind: string;
  detail: string;
  text: string;
  marker: string | null;
}

const MARKER = /Zq\d+Q/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** RFC 2812 §2.3.1 nickname, as docs/protocol.md states the name rule (ASCII only). */
const NAME = /^[A-Za-z_\-[\]\\`^{|}][A-Za-z0-9_\-[\]\\`^{|}]*$/;
/** IRCv3 message-tags: a key, optionally client-only (+) and vendor-prefixed. */
const TAG_KEY = /^\+?([A-Za-z0-9.-]+\/)?[A-Za-z0-9-]+$/;
/** Strict RFC 1459 message: [":" prefix SP] command *(SP middle) [SP ":" trailing]. */
const IRC_MESSAGE = /^(?::([^ ]+) )?([A-Za-z]+|\d{3})((?: [^ :][^ ]*)*)(?: :(.*))?$/s;
/** Commands and replies whose last parameter is a channel (others may end with text). */
const LAST_IS_CHANNEL = new Set(['JOIN', 'INVITE', '341']);
/** JSON fields that hold a person's or a room's name. */
const NAME_KEYS = new Set(['name', 'from', 'to', 'old', 'by', 'room', 'with']);

function unescapeTag(v: string): string {
  return v.replace(/\\(.)?/g, (_, c: string | undefined) =>
    c === ':' ? ';' : c === 's' ? ' ' : c === 'r' ? '\r' : c === 'n' ? '\n' : (c ?? ''),
  );
}

export class WireChecker {
  readonly violations: Violation[] = [];
  count = 0;
  checked = 0;
  /** Kinds of violation seen, with how many. */
  readonly kinds = new Map<string, number>();

  constructor(
    readonly observer: string,
    readonly wire: Wire,
    /** The client negotiated IRCv3 message-tags (else it must get no tags at all). */
    private readonly tagsAllowed = false,
    private readonly keep = 50,
  ) {}

  private flag(kind: string, detail: string, text: string): void {
    this.count++;
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    if (this.violations.length < this.keep) {
      this.violations.push({
        observer: this.observer,
        kind,
        detail,
        text: visible(text, 300),
        marker: MARKER.exec(text)?.[0] ?? null,
      });
    }
  }

  private text(s: string, where: string, whole: string): void {
    const bad = firstUnsafe(s, UNSAFE_TEXT);
    if (bad) this.flag('control character', `${bad} in ${where}`, whole);
  }

  private name(s: string, where: string, whole: string): void {
    const bad = firstUnsafe(s, UNSAFE_NAME);
    if (bad) this.flag('unsafe character in a name', `${bad} in ${where}`, whole);
  }

  /** One line of the line protocol or IRC, with its line end, as received. */
  line(raw: Buffer): void {
    this.checked++;
    let s: string;
    try {
      s = utf8.decode(raw);
    } catch {
      this.flag(
        'invalid UTF-8',
        'the server sent bytes that are not UTF-8',
        raw.toString('latin1'),
      );
      s = raw.toString('utf8');
    }
    if (!s.endsWith('\r\n')) {
      this.flag('line end', 'a line not ended by CRLF (a bare LF)', s);
    }
    const body = s.replace(/\r\n$/, '');
    if (/[\r\n\0]/.test(body)) {
      this.flag('extra line break', 'CR, LF or NUL inside a line', body);
    }
    if (this.wire === 'line') this.lineProtocol(body);
    else this.irc(body);
  }

  private lineProtocol(body: string): void {
    this.text(body, 'a line', body);
    // "[12:00] <alice> text" or "[12:00] #room <alice> text": the name is a name.
    const m = /^\[\d\d:\d\d\] (?:(#\S+) )?<([^>]*)>/.exec(body);
    if (m?.[2] !== undefined) this.name(m[2], 'a sender name', body);
    if (m?.[1] !== undefined) this.name(m[1], 'a room name', body);
  }

  private irc(body: string): void {
    let rest = body;
    if (rest.startsWith('@')) {
      const sp = rest.indexOf(' ');
      const tags = sp < 0 ? rest.slice(1) : rest.slice(1, sp);
      rest = sp < 0 ? '' : rest.slice(sp + 1);
      if (!this.tagsAllowed)
        this.flag('tags without message-tags', 'a client that did not ask for tags got them', body);
      if (Buffer.byteLength(tags) > 8190)
        this.flag('tags too long', `${Buffer.byteLength(tags)} bytes of tags`, body);
      for (const tag of tags.split(';')) {
        const eq = tag.indexOf('=');
        const key = eq < 0 ? tag : tag.slice(0, eq);
        const value = eq < 0 ? '' : tag.slice(eq + 1);
        if (!TAG_KEY.test(key)) this.flag('bad tag', `tag key ${visible(key, 40)}`, body);
        if (/[ ;\r\n\0]/.test(value))
          this.flag('bad tag', 'unescaped space, ;, CR, LF or NUL in a tag value', body);
        this.text(unescapeTag(value), `tag ${key}`, body);
      }
    }
    if (Buffer.byteLength(rest) + 2 > 512) {
      this.flag(
        'line too long',
        `${Buffer.byteLength(rest) + 2} bytes without tags (limit 512)`,
        body,
      );
    }
    const m = IRC_MESSAGE.exec(rest);
    if (!m) {
      this.flag('unparsable IRC line', 'does not match the RFC 1459 message grammar', body);
      return;
    }
    const [, prefix, command, middles, trailing] = m;
    const params = (middles ?? '').split(' ').filter((p) => p.length > 0);
    if (params.length + (trailing === undefined ? 0 : 1) > 15)
      this.flag('too many parameters', 'more than 15', body);
    if (prefix !== undefined) {
      const bang = prefix.indexOf('!');
      if (bang >= 0) {
        const nick = prefix.slice(0, bang);
        if (!NAME.test(nick))
          this.flag('bad prefix', `nick ${visible(nick, 40)} breaks the name rule`, body);
        this.text(prefix.slice(bang + 1), 'the prefix user@host', body);
      } else this.name(prefix, 'the prefix', body);
    }
    // Without a ':' the last parameter may still be text (RFC 1459 2.3.1 lets a server
    // leave it out when the text has no space): an away text or a topic that starts with
    // '#' is not a channel name. Only where the last parameter is a channel is it one.
    const lastIsChannel =
      trailing !== undefined ||
      LAST_IS_CHANNEL.has(command ?? '') ||
      (command === 'PART' && params.length === 1);
    params.forEach((p, i) => {
      this.text(p, 'a parameter', body);
      const text = i === params.length - 1 && !lastIsChannel;
      if (p.startsWith('#') && !text) this.name(p, 'a channel name', body);
    });
    if (trailing !== undefined) {
      // CTCP (e.g. ACTION) is framed by \x01 at both ends of the trailing parameter.
      const inner = /^\x01[A-Z]+( |\x01$)/.test(trailing)
        ? trailing.replace(/^\x01/, '').replace(/\x01$/, '')
        : trailing;
      this.text(inner, 'the trailing parameter', body);
    }
  }

  /** One JSON message (framed or WebSocket), as received. */
  json(raw: string): void {
    this.checked++;
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      this.flag('invalid JSON', 'a frame that is not JSON', raw);
      return;
    }
    if (
      typeof msg !== 'object' ||
      msg === null ||
      typeof (msg as { type?: unknown }).type !== 'string'
    ) {
      this.flag('not a message', 'JSON that is not an object with a type', raw);
      return;
    }
    this.walk(msg, '', raw);
  }

  private walk(v: unknown, key: string, raw: string): void {
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) this.flag('lone surrogate', `in ${key}`, raw);
      if (NAME_KEYS.has(key.replace(/^.*\./, ''))) this.name(v, key, raw);
      else this.text(v, key, raw);
    } else if (Array.isArray(v)) {
      v.forEach((x) => this.walk(x, key, raw));
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) this.walk(x, key ? `${key}.${k}` : k, raw);
    }
  }
}
