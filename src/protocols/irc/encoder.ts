/**
 * Core events as IRC lines. The bytes depend on the recipient only through a few
 * capabilities (server-time, message-tags, account-tag, extended-join), so the variant
 * key is those bits: the hub builds each event once per distinct set and hands the same
 * Buffer to everyone sharing it (ergo's message_cache.go does the same).
 */
import { markerTime } from '../../core/read-markers.js';
import type {
  ChatEvent,
  MessageEvent,
  DirectEvent,
  RenameEvent,
  StatusEvent,
} from '../../core/events.js';
import { fold } from '../../core/names.js';
import type { Encoder } from '../../core/ports.js';
import { Role, type Room } from '../../core/room.js';
import type { Session } from '../../core/session.js';
import { Cap } from './caps.js';
import { describeChange, describeRename } from '../describe.js';
import { shutdownText } from '../shutdown-text.js';
import { MAX_LINE_BYTES, escapeTag } from './codec.js';
import { toLetters } from './mode-letters.js';
import { RPL } from './numerics.js';
import { hostLines, hostVariant } from './host-lines.js';

const TAG_BITS = Cap.ServerTime | Cap.AccountTag;
const MESSAGE_BITS = TAG_BITS | Cap.MessageTags;

export function isoTime(ts: number): string {
  return new Date(ts).toISOString();
}

/** The tag section ("@a=b;c " or '') an event carries for a recipient with `caps`. */
function tagPrefix(
  caps: number,
  ts: number,
  account: string | null,
  extra?: { msgid?: string; client?: Record<string, string>; bot?: boolean },
): string {
  let tags = '';
  const add = (t: string): void => {
    tags += tags ? `;${t}` : t;
  };
  if (caps & Cap.ServerTime) add(`time=${isoTime(ts)}`);
  if (caps & Cap.AccountTag && account) add(`account=${escapeTag(account)}`);
  if (extra && caps & Cap.MessageTags) {
    if (extra.msgid) add(`msgid=${extra.msgid}`);
    // IRCv3 bot mode: a bot's messages carry the valueless `bot` tag.
    if (extra.bot) add('bot');
    if (extra.client) {
      for (const [k, v] of Object.entries(extra.client)) add(v === '' ? k : `${k}=${escapeTag(v)}`);
    }
  }
  return tags ? `@${tags} ` : '';
}

/**
 * Client-only tags as tag-section items (`+draft/reply=abc`, a valueless one bare), for
 * history replays: the same form live delivery gives them (tagPrefix).
 */
export function clientTagItems(tags: Record<string, string> | undefined): string[] {
  const out: string[] = [];
  if (tags)
    for (const [k, v] of Object.entries(tags)) out.push(v === '' ? k : `${k}=${escapeTag(v)}`);
  return out;
}

function line(text: string): string {
  return text + '\r\n';
}

/** A kept event's msgid (core/event-history.ts), for tagPrefix; none when it is not kept. */
function keptId(event: { id?: string }): { msgid: string } | undefined {
  return event.id === undefined ? undefined : { msgid: event.id };
}

/**
 * The capability bits a room event's bytes vary on: a kept one (with an id) also shows
 * its msgid to clients with message-tags.
 */
function eventBits(event: { id?: string }, caps: number, bits = TAG_BITS): number {
  return caps & (event.id === undefined ? bits : bits | Cap.MessageTags);
}

/** Bytes of a string in UTF-8 (ASCII fast path). */
function byteLength(s: string): number {
  return Buffer.byteLength(s);
}

/** Cuts `text` into pieces of at most `max` UTF-8 bytes, preferring to break at spaces. */
export function splitUtf8(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (byteLength(rest) > max) {
    const buf = Buffer.from(rest);
    let cut = max;
    // Never split a multi-byte character: back up to a lead byte.
    while (cut > 0 && ((buf[cut] as number) & 0xc0) === 0x80) cut--;
    const space = buf.lastIndexOf(0x20, cut - 1);
    if (space > max / 2) cut = space + 1;
    if (cut <= 0) cut = max;
    out.push(buf.subarray(0, cut).toString('utf8'));
    rest = buf.subarray(cut).toString('utf8');
  }
  out.push(rest);
  return out;
}

/**
 * PRIVMSG/NOTICE lines for one message, live or replayed from history. Text an IRC client
 * could have sent fits one line, and is cut (never split in a character) if the sender's
 * prefix pushes it past 512 bytes, as IRC servers do; longer text from other protocols
 * (the line protocol accepts 4000 bytes) is split into several lines so IRC readers lose
 * nothing. A replay may put a `stamp` (the original time) before the text of every line;
 * the stamp is the server's addition, so what it pushes past the limit goes to another
 * line instead of being cut.
 */
export function messageLines(
  tags: string,
  mask: string,
  target: string,
  text: string,
  kind: MessageEvent['kind'],
  stamp = '',
): string {
  const verb = kind === 'notice' ? 'NOTICE' : 'PRIVMSG';
  const head = `:${mask} ${verb} ${target} :`;
  const wrap =
    kind === 'me' ? (t: string) => `\x01ACTION ${stamp}${t}\x01` : (t: string) => stamp + t;
  const overhead = (kind === 'me' ? 9 : 0) + byteLength(stamp);
  const budget = MAX_LINE_BYTES - 2 - byteLength(head) - overhead;
  const size = byteLength(text);
  if (size <= budget) return line(tags + head + wrap(text));
  // A client may leave out the colon before a one-word last parameter, so the longest
  // text it could send is one byte longer than with the colon.
  const couldBeIrc =
    !stamp && size + overhead <= MAX_LINE_BYTES - 2 - byteLength(`${verb} ${target} `);
  const pieces = splitUtf8(text, Math.max(budget, 32));
  if (couldBeIrc) return line(tags + head + wrap(pieces[0] as string));
  return pieces.map((p) => line(tags + head + wrap(p))).join('');
}

function messageEvent(event: MessageEvent | DirectEvent, caps: number): string {
  const tags = tagPrefix(caps, event.ts, event.from.account, {
    msgid: event.id,
    ...(event.tags ? { client: event.tags } : {}),
    ...(event.from.bot ? { bot: true } : {}),
  });
  const target = event.type === 'message' ? event.room : event.to;
  if (event.tagOnly) return line(`${tags}:${event.from.mask} TAGMSG ${target}`);
  return messageLines(tags, event.from.mask, target, event.text, event.kind);
}

/**
 * Variant keys by capability bits, built once: a key made per recipient would cost a
 * string allocation and a hash on every delivery of a fan-out.
 */
const plainKeys: string[] = [];
const awayKeys: string[] = [];

function key(bits: number): string {
  return (plainKeys[bits] ??= `irc:${bits}`);
}

function awayKey(bits: number): string {
  return (awayKeys[bits] ??= `irc:a:${bits}`);
}

export function createIrcEncoder(serverName: string): Encoder {
  const serverLine = (caps: number, ts: number, rest: string): string =>
    line(`${tagPrefix(caps, ts, null)}:${serverName} ${rest}`);

  return {
    variant(event: ChatEvent, r: Session): string | null {
      // What every recipient of a channel message takes, small enough for V8 to inline
      // into the hub's fan-out loop; everything else goes through the full rules below.
      if (event.type === 'message' && r.registered && event.origin !== r.id && !event.tagOnly)
        return key(r.caps & MESSAGE_BITS);
      return variantOf(event, r);
    },

    encode(event: ChatEvent, r: Session): Buffer | null {
      return Buffer.from(encodeText(event, r, r.caps, serverLine));
    },

    farewell(reason: string, r: Session, shutdown?: boolean): Buffer {
      // Stopping: this ERROR is all an IRC client is told (see variantOf), so it carries
      // the shutdown sentence ("Server shutting down", or with an operator's reason).
      return Buffer.from(closingLink(shutdown ? shutdownText(reason) : reason, r));
    },
  };
}

/**
 * RFC 2812 3.7.4: ERROR tells a client the server is closing its link. irssi shows it as
 * `ERROR Closing link: (~alice@127.0.0.1) [reason]`, WeeChat as `=!= | Closing link: …`.
 */
function closingLink(reason: string, r: Session): string {
  const who = r.registered ? `${r.user}@${r.host}` : r.host;
  return line(`ERROR :Closing link: (${who}) [${reason}]`);
}

/** The variant rules for every event; `variant` above answers the commonest case first. */
export function variantOf(event: ChatEvent, r: Session): string | null {
  const caps = r.caps;
  switch (event.type) {
    case 'shutdown':
      // IRC hears of a shutdown once, from the farewell: ERROR, the last line before the
      // close. A NOTICE before it would say the same thing again.
      return null;
    case 'roster':
    case 'kill':
    case 'serverban':
    case 'sethost':
      return null;
    default:
      if (!r.registered) return null;
  }
  switch (event.type) {
    case 'message':
    case 'dm':
      // echo-message: the sender sees its own message only when it asked to (a
      // message to oneself still arrives as the recipient's copy).
      if (event.origin === r.id && !(caps & Cap.EchoMessage)) {
        if (event.type === 'message' || event.to !== r.name) return null;
      }
      // TAGMSG reaches only clients that negotiated message-tags.
      if (event.tagOnly && !(caps & Cap.MessageTags)) return null;
      return key(caps & MESSAGE_BITS);
    case 'joined':
      // away-notify: others also learn that the joiner is away (not the joiner).
      if (event.away !== undefined && caps & Cap.AwayNotify && event.who.name !== r.name)
        return awayKey(eventBits(event, caps, TAG_BITS | Cap.ExtendedJoin));
      return key(eventBits(event, caps, TAG_BITS | Cap.ExtendedJoin));
    case 'away':
      if (!(caps & Cap.AwayNotify) || event.who.name === r.name) return null;
      return key(caps & TAG_BITS);
    case 'invite':
      // The invited person, and (IRCv3 invite-notify) members who asked, not the inviter.
      if (fold(event.name) === fold(r.name)) return key(caps & TAG_BITS);
      return caps & Cap.InviteNotify && event.origin !== r.id ? key(caps & TAG_BITS) : null;
    case 'realname':
      // IRCv3 setname: only clients that asked for it, the one who changed included.
      return caps & Cap.Setname ? key(caps & TAG_BITS) : null;
    case 'status':
      return statusVariant(event, r);
    case 'host':
      return hostVariant(event, r, TAG_BITS);
    case 'left':
    case 'kick':
    case 'quit':
    case 'nick':
    case 'topic':
    case 'mode':
      return key(eventBits(event, caps));
    case 'account':
      // account-notify (IRCv3): only clients that asked for it.
      return caps & Cap.AccountNotify ? key(caps & TAG_BITS) : null;
    case 'marker':
      // draft/read-marker: only clients that asked for it; one line per target.
      return caps & Cap.ReadMarker ? `irc:m:${caps & TAG_BITS}` : null;
    case 'rename':
      // draft/channel-rename: RENAME for clients that asked; the others get the spec's
      // fallback (PART, JOIN, topic, NAMES), which names the recipient: one encoding
      // each (renames are rare). A change of case alone gets no fallback (the spec's
      // SHOULD NOT), but a notice, so the new spelling is not a secret.
      if (caps & Cap.ChannelRename) return key(caps & TAG_BITS);
      if (fold(event.room) === fold(event.newName)) return `irc:rc:${caps & TAG_BITS}`;
      return `irc:rf:${r.id}`;
    case 'notice':
      if (event.wallops) return key(caps & TAG_BITS);
      // Server notices name their recipient: one encoding each (they are rare).
      return `irc:n:${r.id}:${caps & TAG_BITS}`;
    default:
      return key(caps & TAG_BITS);
  }
}

/**
 * A watched person's news for one watcher (IRCv3 monitor and extended-monitor): the
 * numerics name the watcher, so they are encoded for each (they are rare); what
 * extended-monitor forwards is the same for every watcher with the capabilities.
 */
function statusVariant(event: StatusEvent, r: Session): string | null {
  const caps = r.caps;
  switch (event.change) {
    case 'online':
    case 'offline':
    case 'nick':
      return `irc:m:${r.id}:${caps & TAG_BITS}`;
    case 'away':
      return caps & Cap.ExtendedMonitor && caps & Cap.AwayNotify ? key(caps & TAG_BITS) : null;
    case 'account':
      return caps & Cap.ExtendedMonitor && caps & Cap.AccountNotify ? key(caps & TAG_BITS) : null;
    case 'realname':
      return caps & Cap.ExtendedMonitor && caps & Cap.Setname ? key(caps & TAG_BITS) : null;
    case 'host':
      return caps & Cap.ExtendedMonitor && caps & Cap.Chghost ? key(caps & TAG_BITS) : null;
  }
}

/** The mask a renamed person has under the new name. */
function renamedMask(mask: string, newName: string): string {
  const bang = mask.indexOf('!');
  return bang >= 0 ? newName + mask.slice(bang) : newName;
}

function statusLines(
  event: StatusEvent,
  r: Session,
  caps: number,
  serverLine: (caps: number, ts: number, rest: string) => string,
): string {
  const who = event.who;
  const me = r.name || '*';
  const tags = tagPrefix(caps, event.ts, who.account);
  switch (event.change) {
    case 'online':
      return serverLine(caps, event.ts, `${RPL.MONONLINE} ${me} :${who.mask}`);
    case 'offline':
      return serverLine(caps, event.ts, `${RPL.MONOFFLINE} ${me} :${who.name}`);
    case 'nick': {
      // The old name went offline and the new one came online, for whoever watches which.
      const newName = event.newName ?? who.name;
      let out = '';
      if (r.watching?.has(fold(who.name)))
        out += serverLine(caps, event.ts, `${RPL.MONOFFLINE} ${me} :${who.name}`);
      if (r.watching?.has(fold(newName)))
        out += serverLine(
          caps,
          event.ts,
          `${RPL.MONONLINE} ${me} :${renamedMask(who.mask, newName)}`,
        );
      return out;
    }
    case 'away':
      return line(
        event.away == null ? `${tags}:${who.mask} AWAY` : `${tags}:${who.mask} AWAY :${event.away}`,
      );
    case 'account':
      return line(`${tags}:${who.mask} ACCOUNT ${who.account ?? '*'}`);
    case 'realname':
      return line(`${tags}:${who.mask} SETNAME :${event.realname ?? ''}`);
    case 'host':
      return line(`${tags}:${who.mask} CHGHOST ${event.user ?? ''} ${event.host ?? ''}`);
  }
}

function encodeText(
  event: ChatEvent,
  r: Session,
  caps: number,
  serverLine: (caps: number, ts: number, rest: string) => string,
): string {
  switch (event.type) {
    case 'message':
    case 'dm':
      return messageEvent(event, caps);
    case 'joined': {
      const tags = tagPrefix(caps, event.ts, event.who.account, keptId(event));
      // extended-join: account name (or *) and realname.
      const join =
        caps & Cap.ExtendedJoin
          ? line(
              `${tags}:${event.who.mask} JOIN ${event.room} ${event.who.account ?? '*'} :${event.realname}`,
            )
          : line(`${tags}:${event.who.mask} JOIN ${event.room}`);
      const away =
        event.away !== undefined && caps & Cap.AwayNotify && event.who.name !== r.name
          ? line(`${tags}:${event.who.mask} AWAY :${event.away}`)
          : '';
      return join + away;
    }
    case 'left': {
      const tags = tagPrefix(caps, event.ts, event.who.account, keptId(event));
      const reason = event.reason ? ` :${event.reason}` : '';
      return line(`${tags}:${event.who.mask} PART ${event.room}${reason}`);
    }
    case 'kick':
      return line(
        `${tagPrefix(caps, event.ts, event.by.account, keptId(event))}:${event.by.mask} KICK ${event.room} ${event.name} :${event.reason}`,
      );
    case 'quit':
      return line(
        `${tagPrefix(caps, event.ts, event.who.account, keptId(event))}:${event.who.mask} QUIT :${event.reason}`,
      );
    case 'nick':
      return line(
        `${tagPrefix(caps, event.ts, event.who.account, keptId(event))}:${event.who.mask} NICK :${event.newName}`,
      );
    case 'topic':
      return line(
        `${tagPrefix(caps, event.ts, event.by.account, keptId(event))}:${event.by.mask} TOPIC ${event.room} :${event.topic}`,
      );
    case 'mode': {
      const { modes, params } = toLetters(event.changes);
      let out = '';
      if (modes) {
        const p = params.length ? ` ${params.join(' ')}` : '';
        out += line(
          `${tagPrefix(caps, event.ts, event.by.account, keptId(event))}:${event.by.mask} MODE ${event.room} ${modes}${p}`,
        );
      }
      // Mutes and ownership have no mode letter: the channel is told in a notice.
      for (const c of event.changes) {
        if (c.kind === 'mute' || c.kind === 'owner') {
          out += serverLine(
            caps,
            event.ts,
            `NOTICE ${event.room} :${describeChange(c, event.by.name, event.room, event.ts)}`,
          );
        }
      }
      return out;
    }
    case 'away': {
      const tags = tagPrefix(caps, event.ts, event.who.account);
      // away-notify: AWAY with the message when going away, without when back.
      return line(
        event.message === null
          ? `${tags}:${event.who.mask} AWAY`
          : `${tags}:${event.who.mask} AWAY :${event.message}`,
      );
    }
    case 'invite':
      return line(
        `${tagPrefix(caps, event.ts, event.by.account)}:${event.by.mask} INVITE ${event.name} ${event.room}`,
      );
    case 'notice': {
      if (event.wallops && event.from) {
        return line(
          `${tagPrefix(caps, event.ts, event.from.account)}:${event.from.mask} WALLOPS :${event.text}`,
        );
      }
      const target = r.name || '*';
      if (event.from) {
        return line(
          `${tagPrefix(caps, event.ts, event.from.account)}:${event.from.mask} NOTICE ${target} :${event.text}`,
        );
      }
      return serverLine(caps, event.ts, `NOTICE ${target} :${event.text}`);
    }
    case 'shutdown':
      // Never sent (variantOf gives it no variant): IRC is told by the farewell.
      return '';
    case 'account':
      return line(
        `${tagPrefix(caps, event.ts, event.who.account)}:${event.who.mask} ACCOUNT ${event.who.account ?? '*'}`,
      );
    case 'marker':
      return serverLine(caps, event.ts, `MARKREAD ${event.target} ${markreadTime(event.id)}`);
    case 'realname':
      return line(
        `${tagPrefix(caps, event.ts, event.who.account)}:${event.who.mask} SETNAME :${event.realname}`,
      );
    case 'status':
      return statusLines(event, r, caps, serverLine);
    case 'host':
      return hostLines(event, r, tagPrefix, serverLine);
    case 'rename':
      if (caps & Cap.ChannelRename) {
        // The reason is always there, empty if none was given (the spec's MUST).
        return line(
          `${tagPrefix(caps, event.ts, event.by.account)}:${event.by.mask} RENAME ${event.room} ${event.newName} :${event.reason}`,
        );
      }
      if (fold(event.room) === fold(event.newName)) {
        return serverLine(caps, event.ts, `NOTICE ${event.newName} :${describeRename(event)}`);
      }
      return renameFallback(event, r, caps, serverLine);
    case 'roster':
    case 'kill':
    case 'serverban':
    case 'sethost':
      return '';
  }
}

/**
 * The spec's fallback for a client without draft/channel-rename: it leaves the old
 * channel (PART with the reason) and joins the new one, with what a JOIN brings (topic,
 * RPL_TOPICWHOTIME, NAMES: RFC 2812 3.2.1). Built from this node's replica, which holds
 * the recipient's room under its new name (the hub applies a rename before delivering it).
 */
function renameFallback(
  e: RenameEvent,
  r: Session,
  caps: number,
  serverLine: (caps: number, ts: number, rest: string) => string,
): string {
  const key = fold(e.newName);
  let room: Room | undefined;
  for (const held of r.rooms) if (held.key === key) room = held;
  const tags = tagPrefix(caps, e.ts, r.account);
  let out = line(`${tags}:${r.mask} PART ${e.room}${e.reason ? ` :${e.reason}` : ''}`);
  out +=
    caps & Cap.ExtendedJoin
      ? line(`${tags}:${r.mask} JOIN ${e.newName} ${r.account ?? '*'} :${r.realname}`)
      : line(`${tags}:${r.mask} JOIN ${e.newName}`);
  if (!room) return out;
  const me = r.name;
  if (room.topic) {
    out += serverLine(caps, e.ts, `${RPL.TOPIC} ${me} ${room.name} :${room.topic}`);
    out += serverLine(
      caps,
      e.ts,
      `${RPL.TOPICWHOTIME} ${me} ${room.name} ${room.topicBy} ${Math.floor(room.topicAt / 1000)}`,
    );
  }
  const multi = (caps & Cap.MultiPrefix) !== 0;
  const full = (caps & Cap.UserhostInNames) !== 0;
  const names: string[] = [];
  const shown = (name: string, mask: string, roles: number): string =>
    prefixOf(roles, multi) + (full ? mask : name);
  for (const [s, roles] of room.local) names.push(shown(s.name, s.mask, roles));
  for (const m of room.remote.values()) names.push(shown(m.name, m.mask, m.roles));
  const head = `${RPL.NAMREPLY} ${me} ${room.modes.secret ? '@' : '='} ${room.name} :`;
  // Each NAMES line within 512 bytes (RFC 2812 3.2.5), as channels.ts sendNames keeps them.
  const budget = 510 - byteLength(`:x ${head}`) - 64;
  let cur = '';
  for (const n of names) {
    if (cur && cur.length + 1 + n.length > budget) {
      out += serverLine(caps, e.ts, head + cur);
      cur = n;
    } else cur = cur ? `${cur} ${n}` : n;
  }
  if (cur) out += serverLine(caps, e.ts, head + cur);
  out += serverLine(caps, e.ts, `${RPL.ENDOFNAMES} ${me} ${room.name} :End of /NAMES list`);
  return out;
}

/** `@`/`+` for roles (Role bits), every one with multi-prefix, the highest alone without. */
function prefixOf(roles: number, multi: boolean): string {
  const op = (roles & Role.Op) !== 0;
  const voice = (roles & Role.Voice) !== 0;
  if (multi) return (op ? '@' : '') + (voice ? '+' : '');
  return op ? '@' : voice ? '+' : '';
}

/** A marker as MARKREAD's parameter (ircv3.net/specs/extensions/read-marker). */
export function markreadTime(id: string | null): string {
  return id === null ? '*' : `timestamp=${isoTime(markerTime(id))}`;
}
