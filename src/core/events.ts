/**
 * Core events: plain, serialisable data (they cross the bus as JSON). The core emits them;
 * every node that needs one (this one included) applies it to its replicas of the rooms
 * concerned and delivers it to its own sessions. They carry everything an encoder needs
 * (including the sender's IRC mask), so a node can encode an event about a person it has
 * never seen.
 *
 * `origin` is the node-qualified id of the session that caused the event (see ids.ts), or
 * the node's id for the server's own events: echo rules compare it with the recipient's
 * session id, and only the origin's node writes the event's consequences to the store.
 */
import type { RoomChange } from './room-changes.js';
import type { BanEntry } from './room.js';

/** Who did something, as every protocol needs to show it. */
export interface Actor {
  name: string;
  /** IRC-style `name!user@host`. */
  mask: string;
  /** Identified account name, or null. */
  account: string | null;
  /** A declared bot (IRCv3 bot mode: IRC user mode +B, JSON `hello` with `bot`). */
  bot?: true;
}

export type MessageKind = 'say' | 'me' | 'notice';
/**
 * What hub.say/dm accept: a MessageKind, or 'tag' for a message of tags only (IRCv3
 * TAGMSG: typing notifications, reactions). It becomes an event with `tagOnly` set and
 * no text, is never stored, and only encoders that can show it (IRC with message-tags)
 * deliver it.
 */
export type SendKind = MessageKind | 'tag';

export interface MessageEvent {
  type: 'message';
  id: string;
  ts: number;
  room: string;
  from: Actor;
  text: string;
  kind: MessageKind;
  /** Session id of the sender (node-qualified), so echo rules can tell the sender apart. */
  origin: string;
  /** Protocol-specific client tags to pass through (IRCv3 client-only tags), or undefined. */
  tags?: Record<string, string>;
  /** Tags only, no text (see SendKind). */
  tagOnly?: boolean;
}

export interface DirectEvent {
  type: 'dm';
  id: string;
  ts: number;
  from: Actor;
  to: string;
  text: string;
  kind: MessageKind;
  origin: string;
  tags?: Record<string, string>;
  tagOnly?: boolean;
}

/**
 * In rooms larger than `rosterDigestThreshold`, joins, parts and quits are marked `bulk`:
 * protocols that show them to people (the line protocol) skip them and show the room's
 * periodic `roster` digest instead, so N people joining a big room is not N² lines.
 * Protocols whose clients track membership (IRC, JSON) still use every event.
 */
export interface JoinedEvent {
  type: 'joined';
  ts: number;
  /** Its history id when kept for event playback (event-history.ts); else absent. */
  id?: string;
  origin: string;
  room: string;
  who: Actor;
  realname: string;
  bulk?: boolean;
  /** The joiner's away message, when away (IRCv3 away-notify tells channel members). */
  away?: string;
  /**
   * The room as this node's store remembers it, when the cluster knew nothing of it (a
   * first join after Redis lost its data): the shared state starts from this.
   */
  restore?: RoomRestore;
}

/** A room's kept settings, bans and mutes, as the store had them. */
export interface RoomRestore {
  fields: Record<string, string>;
  bans: BanEntry[];
  mutes: [string, number | null][];
}

/** Joins and departures of a big room, gathered over about a second. */
export interface RosterEvent {
  type: 'roster';
  ts: number;
  room: string;
  joined: string[];
  left: string[];
}

export interface LeftEvent {
  type: 'left';
  ts: number;
  /** Its history id when kept for event playback (event-history.ts); else absent. */
  id?: string;
  origin: string;
  room: string;
  who: Actor;
  reason: string;
  bulk?: boolean;
}

export interface KickEvent {
  type: 'kick';
  ts: number;
  /** Its history id when kept for event playback (event-history.ts); else absent. */
  id?: string;
  origin: string;
  room: string;
  by: Actor;
  name: string;
  reason: string;
}

export interface QuitEvent {
  type: 'quit';
  ts: number;
  /** Its history id when kept for event playback (event-history.ts); else absent. */
  id?: string;
  origin: string;
  who: Actor;
  reason: string;
  /** Rooms the person was in: everyone sharing one of them is told. */
  rooms: string[];
  /** Every one of those rooms is big (see JoinedEvent). */
  bulk?: boolean;
}

export interface NickEvent {
  type: 'nick';
  ts: number;
  /** Its history id when kept for event playback (event-history.ts); else absent. */
  id?: string;
  origin: string;
  who: Actor;
  newName: string;
  rooms: string[];
}

export interface TopicEvent {
  type: 'topic';
  ts: number;
  /** Its history id when kept for event playback (event-history.ts); else absent. */
  id?: string;
  origin: string;
  room: string;
  by: Actor;
  topic: string;
}

export interface AwayEvent {
  type: 'away';
  ts: number;
  origin: string;
  who: Actor;
  message: string | null;
  rooms: string[];
}

/** Someone logged in to an account (IRC account-notify). */
export interface AccountEvent {
  type: 'account';
  ts: number;
  origin: string;
  who: Actor;
  rooms: string[];
}

/**
 * Someone changed their realname (the free text WHOIS and WHO show; IRCv3 setname):
 * everyone sharing a room is told, and their node's presence keeps the new one.
 */
export interface RealnameEvent {
  type: 'realname';
  ts: number;
  origin: string;
  who: Actor;
  realname: string;
  rooms: string[];
}

/** What a status event says happened to the person watched for. */
export type StatusChange = 'online' | 'offline' | 'nick' | 'away' | 'account' | 'realname' | 'host';

/**
 * News about one person for those who watch for them (a watch list: IRC MONITOR): they
 * came online, went offline, changed name (`newName`), or changed what extended-monitor
 * forwards (away text, account, realname, displayed host). It goes to every node, since a watcher may be
 * anywhere, and is delivered only to watchers; the room events that say the same thing to
 * those who share a room still go as before.
 */
export interface StatusEvent {
  type: 'status';
  ts: number;
  origin: string;
  /** The person as they were before the change. */
  who: Actor;
  change: StatusChange;
  newName?: string;
  /** change 'away': the away text, or null when back. */
  away?: string | null;
  /** change 'realname': the new one. */
  realname?: string;
  /** change 'host': the new user name and displayed host (core/hosts.ts). */
  user?: string;
  host?: string;
  /** Their rooms: watchers in one of them here heard of away/account/realname/host there. */
  rooms: string[];
}

/** Changes to a room's settings, typed (protocols turn them into IRC letters or words). */
export interface ModeEvent {
  type: 'mode';
  ts: number;
  /** Its history id when kept for event playback (event-history.ts); else absent. */
  id?: string;
  origin: string;
  room: string;
  by: Actor;
  changes: RoomChange[];
}

export interface InviteEvent {
  type: 'invite';
  ts: number;
  origin: string;
  room: string;
  by: Actor;
  name: string;
}

/** A notice from the server (operator broadcast, wallops), to everyone or one person. */
export interface NoticeEvent {
  type: 'notice';
  ts: number;
  origin: string;
  text: string;
  /** Deliver only to this name; undefined means everyone. */
  to?: string;
  /** Deliver only to the members of this room. */
  room?: string;
  /** Deliver only to server operators. */
  opersOnly?: boolean;
  /** An operator broadcast (IRC WALLOPS): to operators and to those with user mode 'w'. */
  wallops?: boolean;
  from?: Actor;
}

/**
 * A session must go (operator KILL, NickServ GHOST/REGAIN): the node holding it
 * disconnects it, which then emits its quit. No protocol shows this event itself.
 */
export interface KillEvent {
  type: 'kill';
  ts: number;
  origin: string;
  /** The session to end (node-qualified id). */
  target: string;
  reason: string;
}

/**
 * An operator changes someone's displayed user name and host (IRC CHGHOST): a directive
 * to the node holding `target`, which applies it and announces it (HostEvent). No
 * protocol shows this event itself.
 */
export interface SetHostEvent {
  type: 'sethost';
  ts: number;
  origin: string;
  /** The session to change (node-qualified id). */
  target: string;
  user: string;
  host: string;
  /** The operator's name, for the log. */
  by: string;
}

/**
 * Someone's displayed user and host changed (core/hosts.ts): everyone sharing a room is
 * told (IRCv3 chghost, or the spec's QUIT and JOIN for IRC clients without it), and every
 * node's replicas and presence take the new mask. `origin` is the changed session.
 */
export interface HostEvent {
  type: 'host';
  ts: number;
  origin: string;
  /** The person as they were (their old mask). */
  who: Actor;
  user: string;
  host: string;
  rooms: string[];
  /** Their roles (room.ts Role bits) in each of `rooms`, in the same order. */
  roles: number[];
  /** Their realname and away message (if away): what a rejoin would show. */
  realname: string;
  away?: string;
}

/** A server-wide ban set or lifted: every node keeps it and ends the sessions it matches. */
export interface ServerBanEvent {
  type: 'serverban';
  ts: number;
  origin: string;
  mask: string;
  on: boolean;
  reason: string;
  expiresAt: number | null;
  by: string;
}

/**
 * A read marker moved forward (read-markers.ts): every connection of `account` is told,
 * on every node; a guest's (`account` null) only its own connection, `origin`.
 */
export interface MarkerEvent {
  type: 'marker';
  ts: number;
  origin: string;
  account: string | null;
  /** Room name, or the other person's name. */
  target: string;
  /** The marker: a message id (read-markers.ts). */
  id: string;
}

/**
 * A room took a new name (IRCv3 draft/channel-rename): everything it holds — members,
 * roles, topic, modes, bans, mutes, invites, owner, history, read markers — follows it.
 * A sequenced event of the room under its old name (cluster: the SEQUENCE of the rename
 * also moves the room's Redis keys), so every node switches at the same point of the
 * room's order, and the room's offsets go on under the new name.
 */
export interface RenameEvent {
  type: 'rename';
  ts: number;
  origin: string;
  /** The name before, as spelled. */
  room: string;
  /** The name after, as spelled (may differ from `room` only in case). */
  newName: string;
  by: Actor;
  reason: string;
}

/** This node is shutting down: local only, never carried to other nodes. */
export interface ShutdownEvent {
  type: 'shutdown';
  ts: number;
  reason: string;
  /** How long each name stays held for its person (--name-hold), for protocols that say so. */
  nameHoldMs?: number;
}

export type ChatEvent =
  | MessageEvent
  | DirectEvent
  | JoinedEvent
  | LeftEvent
  | KickEvent
  | QuitEvent
  | NickEvent
  | TopicEvent
  | AwayEvent
  | ModeEvent
  | InviteEvent
  | NoticeEvent
  | ShutdownEvent
  | RosterEvent
  | AccountEvent
  | RealnameEvent
  | StatusEvent
  | KillEvent
  | ServerBanEvent
  | MarkerEvent
  | SetHostEvent
  | HostEvent
  | RenameEvent;

/** One message of a private conversation between two accounts, as history returns it. */
export interface DirectHistoryEntry {
  id: string;
  ts: number;
  /** Account names. */
  from: string;
  to: string;
  text: string;
  kind: MessageKind;
}

/** A stored room message, as history returns it. */
export interface HistoryEntry {
  id: string;
  ts: number;
  room: string;
  from: string;
  mask: string;
  text: string;
  kind: MessageKind;
  /**
   * The message's client-only tags (IRCv3 `+draft/reply`...), cleaned and bounded as the
   * live relay has them (core/tags.ts), so CHATHISTORY replays them; absent when none.
   */
  tags?: Record<string, string>;
}

/**
 * What a kept room event says (IRCv3 draft/event-playback: CHATHISTORY plays these back,
 * beside the messages, to clients that asked). Kept apart from messages (their own table),
 * so nothing that reads messages (replays, resume, counts, search, markers) sees them.
 */
export type EventDetail =
  | { kind: 'join'; account: string | null; realname: string }
  | { kind: 'part'; reason: string }
  | { kind: 'quit'; reason: string }
  | { kind: 'kick'; name: string; reason: string }
  | { kind: 'topic'; topic: string }
  | { kind: 'nick'; newName: string }
  | { kind: 'mode'; changes: RoomChange[] }
  | { kind: 'tag'; tags: Record<string, string> };

export type EventKind = EventDetail['kind'];

/** A kept room event (or a private conversation's TAGMSG), as the store returns it. */
export interface EventEntry {
  /** A message id (ids.ts): events and messages share one order. */
  id: string;
  ts: number;
  /** The room, or a private conversation's key (messaging.ts directKey). */
  room: string;
  /** Who did it: their name (an account name in private history, as for messages). */
  from: string;
  mask: string;
  detail: EventDetail;
}
