/**
 * The conversations someone has history in (IRCv3 CHATHISTORY TARGETS): the rooms they may
 * read and their account's private conversations, each with its newest message in a time
 * window, oldest newest message first, at most `limit`.
 *
 * A private conversation is kept under two keys when the other side's name was both an
 * account's and, earlier, a guest's (`@a b` and `@a ~b`, direct-keys.ts): they are one
 * target, listed once at the newer of the two. So the store is asked for more keys than
 * targets wanted (two keys at most make one target), and a target seen through one key
 * only has the other looked up, so its time is its newest. When some of the targets found
 * may sort after ones the store did not return, it is asked again for twice as many.
 */
import type { Core } from './context.js';
import { directKey, guestDirectKey, peerOfKey } from './direct-keys.js';
import { fold } from './names.js';
import type { Conversation } from './ports.js';

export interface Target {
  /** A room as it spells itself, or the other side's account (or guest name). */
  target: string;
  direct: boolean;
  id: string;
  ts: number;
}

interface Found extends Target {
  /** For a private one seen through one key only: the other key it may also have. */
  twin: string | null;
}

/** Rounds of asking for twice as many keys before settling for what was found. */
const MAX_ROUNDS = 4;

const later = (a: { ts: number; id: string }, b: { ts: number; id: string }): boolean =>
  a.ts > b.ts || (a.ts === b.ts && BigInt(a.id) > BigInt(b.id));

export async function listConversations(
  core: Core,
  rooms: string[],
  account: string | null,
  after: number,
  before: number,
  limit: number,
): Promise<Target[]> {
  if (limit <= 0) return [];
  const mine = account === null ? '' : fold(account);
  let sorted: Found[] = [];
  for (let round = 0, want = limit * 2; round < MAX_ROUNDS; round++, want *= 2) {
    const keys = await core.store.conversations({
      rooms,
      ...(account !== null ? { account } : {}),
      after,
      before,
      limit: want,
    });
    const targets = await byTarget(core, keys, mine);
    // Everything in the window came back: the twins too, so each time is the newest.
    const complete = keys.length < want;
    if (!complete && account !== null) await twins(core, targets, mine, after, before);
    sorted = [...targets.values()].sort((a, b) => (later(a, b) ? 1 : later(b, a) ? -1 : 0));
    if (complete) break;
    // Targets the store did not return all sort after its last key: these cannot be passed.
    const last = keys[keys.length - 1] as Conversation;
    const sure = sorted.filter((t) => !later(t, last));
    if (sure.length >= limit) {
      sorted = sure;
      break;
    }
  }
  return sorted.slice(0, limit).map(({ target, direct, id, ts }) => ({ target, direct, id, ts }));
}

/** The keys as targets, by folded target; two keys of one target become one, at the newer. */
async function byTarget(
  core: Core,
  keys: Conversation[],
  mine: string,
): Promise<Map<string, Found>> {
  const out = new Map<string, Found>();
  for (const c of keys) {
    if (!c.room.startsWith('@')) {
      const target = core.rooms.get(c.room)?.name ?? c.room;
      out.set(fold(target), { target, direct: false, id: c.id, ts: c.ts, twin: null });
      continue;
    }
    // `@a b` or `@a ~guest`, folded: the other one is the peer (oneself, for notes to self).
    const peer = peerOfKey(c.room, mine);
    if (peer === null) continue;
    const key = `@${peer.name}`;
    const held = out.get(key);
    if (held) {
      if (later(c, held)) Object.assign(held, { id: c.id, ts: c.ts });
      held.twin = null;
      if (!peer.guest) held.target = await accountName(core, peer.name);
      continue;
    }
    out.set(key, {
      target: peer.guest ? peer.name : await accountName(core, peer.name),
      direct: true,
      id: c.id,
      ts: c.ts,
      twin: peer.guest ? directKey(mine, peer.name) : guestDirectKey(mine, peer.name),
    });
  }
  return out;
}

/** The account's name as it spells it (a deleted one: as the key has it). */
async function accountName(core: Core, folded: string): Promise<string> {
  return (await core.store.getAccount(folded))?.name ?? folded;
}

/** Looks up the other key of targets seen through one: a newer message there moves them. */
async function twins(
  core: Core,
  targets: Map<string, Found>,
  mine: string,
  after: number,
  before: number,
): Promise<void> {
  const byKey = new Map<string, Found>();
  for (const t of targets.values()) if (t.twin !== null) byKey.set(t.twin, t);
  if (byKey.size === 0) return;
  const found = await core.store.conversations({
    rooms: [...byKey.keys()],
    after,
    before,
    limit: byKey.size,
  });
  for (const c of found) {
    const t = byKey.get(fold(c.room));
    if (!t) continue;
    if (later(c, t)) Object.assign(t, { id: c.id, ts: c.ts });
    const peer = peerOfKey(fold(c.room), mine);
    if (peer !== null && !peer.guest) t.target = await accountName(core, peer.name);
  }
}
