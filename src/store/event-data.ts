/**
 * A kept event's details as the stores hold them: a `kind` column and a JSON `data`
 * column (the fields of EventDetail but its kind). Decoding checks every field, so a row
 * written by another version, or damaged, gives null (the row is left out of a page)
 * rather than an exception or a wrongly typed value.
 */
import type { EventDetail, EventEntry, EventKind } from '../core/events.js';
import { ROOM_FLAGS, type RoomChange, type RoomFlag } from '../core/room-changes.js';
import { checkClientTags } from '../core/tags.js';

export const EVENT_KINDS: readonly EventKind[] = [
  'join',
  'part',
  'quit',
  'kick',
  'topic',
  'nick',
  'mode',
  'tag',
];

/** The `kind` and `data` columns for a detail. */
export function encodeDetail(detail: EventDetail): { kind: EventKind; data: string } {
  const { kind, ...rest } = detail;
  return { kind, data: JSON.stringify(rest) };
}

type Fields = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isStamp = (v: unknown): v is number | null =>
  v === null || (typeof v === 'number' && Number.isFinite(v));

function change(v: unknown): RoomChange | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Fields;
  switch (c.kind) {
    case 'flag':
      return (ROOM_FLAGS as readonly unknown[]).includes(c.flag) && isBool(c.on)
        ? { kind: 'flag', flag: c.flag as RoomFlag, on: c.on }
        : null;
    case 'key':
      return c.key === null || isString(c.key) ? { kind: 'key', key: c.key } : null;
    case 'limit':
      return Number.isSafeInteger(c.limit) ? { kind: 'limit', limit: c.limit as number } : null;
    case 'role':
      return (c.role === 'op' || c.role === 'voice') && isString(c.name) && isBool(c.on)
        ? { kind: 'role', role: c.role, name: c.name, on: c.on }
        : null;
    case 'ban': {
      if (!isString(c.mask) || !isBool(c.on)) return null;
      if (c.reason !== undefined && !isString(c.reason)) return null;
      if (c.expiresAt !== undefined && !isStamp(c.expiresAt)) return null;
      return {
        kind: 'ban',
        mask: c.mask,
        on: c.on,
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
        ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
      };
    }
    case 'mute':
      return isString(c.name) && isStamp(c.until) && isBool(c.on)
        ? { kind: 'mute', name: c.name, until: c.until, on: c.on }
        : null;
    case 'owner':
      return c.account === null || isString(c.account)
        ? { kind: 'owner', account: c.account }
        : null;
    default:
      return null;
  }
}

function tags(v: unknown): Record<string, string> | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v as Fields)) {
    if (!isString(value)) return null;
    out[k] = value;
  }
  // The keys and values a client could have sent, cleaned as when it sent them: a
  // damaged row cannot put a space or a line end into a TAGMSG's tags.
  return checkClientTags(out) ?? null;
}

/** The detail of a row, or null when the columns do not hold one. */
export function decodeDetail(kind: string, data: string): EventDetail | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const f = parsed as Fields;
  switch (kind) {
    case 'join':
      return (f.account === null || isString(f.account)) && isString(f.realname)
        ? { kind, account: f.account, realname: f.realname }
        : null;
    case 'part':
    case 'quit':
      return isString(f.reason) ? { kind, reason: f.reason } : null;
    case 'kick':
      return isString(f.name) && isString(f.reason)
        ? { kind, name: f.name, reason: f.reason }
        : null;
    case 'topic':
      return isString(f.topic) ? { kind, topic: f.topic } : null;
    case 'nick':
      return isString(f.newName) ? { kind, newName: f.newName } : null;
    case 'mode': {
      if (!Array.isArray(f.changes)) return null;
      const changes: RoomChange[] = [];
      for (const c of f.changes) {
        const one = change(c);
        if (one === null) return null;
        changes.push(one);
      }
      return { kind, changes };
    }
    case 'tag': {
      const t = tags(f.tags);
      return t === null ? null : { kind, tags: t };
    }
    default:
      return null;
  }
}

/** A stored row's columns as the stores read them. */
export interface EventRow {
  id: string | number | bigint;
  ts: string | number | bigint;
  room: string;
  sender: string;
  mask: string;
  kind: string;
  data: string;
}

/** The entry of a row, or null when its details do not decode. */
export function eventOf(row: EventRow): EventEntry | null {
  const detail = decodeDetail(row.kind, row.data);
  if (detail === null) return null;
  return {
    id: String(row.id),
    ts: Number(row.ts),
    room: row.room,
    from: row.sender,
    mask: row.mask,
    detail,
  };
}
