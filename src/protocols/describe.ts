/**
 * Room changes in words, for the protocols that show them to people rather than to
 * programs (the line protocol; JSON carries it as `text` beside the typed changes).
 */
import { formatDuration } from '../core/durations.js';
import type { ModeEvent, RenameEvent } from '../core/events.js';
import type { RoomChange, RoomFlag } from '../core/room.js';

const FLAG_WORDS: Record<RoomFlag, [on: string, off: string]> = {
  inviteOnly: ['made {room} invite-only', 'opened {room} to everyone (no invite needed)'],
  moderated: ['moderated {room} (only operators and voiced may speak)', 'unmoderated {room}'],
  noExternal: ['closed {room} to messages from outside', 'opened {room} to messages from outside'],
  secret: ['made {room} secret', 'made {room} public'],
  topicLocked: ['locked the topic of {room}', 'unlocked the topic of {room}'],
};

/** Time left, to the second (the change and its event are stamped a moment apart). */
function left(until: number, ts: number): string {
  return formatDuration(Math.max(0, Math.round((until - ts) / 1000) * 1000));
}

/** One change in words. */
export function describeChange(c: RoomChange, by: string, room: string, ts: number): string {
  switch (c.kind) {
    case 'flag':
      return `${by} ${(c.on ? FLAG_WORDS[c.flag][0] : FLAG_WORDS[c.flag][1]).replace('{room}', room)}`;
    case 'key':
      return c.key === null ? `${by} removed the key of ${room}` : `${by} set a key on ${room}`;
    case 'limit':
      return c.limit === 0
        ? `${by} removed the member limit of ${room}`
        : `${by} limited ${room} to ${c.limit} members`;
    case 'role': {
      const what = c.role === 'op' ? 'an operator' : 'a voice';
      return c.on
        ? `${by} made ${c.name} ${what} of ${room}`
        : `${by} took away ${c.name}'s ${c.role === 'op' ? 'operator status' : 'voice'} in ${room}`;
    }
    case 'ban': {
      if (!c.on) return `${by} lifted the ban on ${c.mask} in ${room}`;
      const until = c.expiresAt != null ? ` for ${left(c.expiresAt, ts)}` : '';
      return `${by} banned ${c.mask} from ${room}${until}${c.reason ? ` (${c.reason})` : ''}`;
    }
    case 'mute': {
      if (!c.on) return `${c.name} was unmuted in ${room} by ${by}`;
      const until = c.until === null ? 'until unmuted' : `for ${left(c.until, ts)}`;
      return `${c.name} was muted in ${room} by ${by} ${until}`;
    }
    case 'owner':
      return c.account === null
        ? `${by} released ${room}: it has no owner now`
        : `${c.account} now owns ${room}`;
  }
}

/** One sentence per change. */
export function describeChanges(e: ModeEvent): string[] {
  return e.changes.map((c) => describeChange(c, e.by.name, e.room, e.ts));
}

/** `#old is now #new (renamed by alice: reason)`: a rename in words (line protocol, notices). */
export function describeRename(
  e: Pick<RenameEvent, 'room' | 'newName' | 'reason'> & {
    by: { name: string };
  },
): string {
  return `${e.room} is now ${e.newName} (renamed by ${e.by.name}${e.reason ? `: ${e.reason}` : ''})`;
}
