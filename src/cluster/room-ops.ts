/**
 * The changes an event makes to a room's shared state in Redis: ops the SEQUENCE script
 * applies in the same atomic step that gives the event its offset. The rules are
 * rooms.ts's (a room's first member is its operator except in the default room; a claimed
 * room's owner is), so a replica started from a snapshot (rooms.ts `fromSnapshot`) and one
 * that saw every event agree.
 */
import type { ChatEvent } from '../core/events.js';
import { fold } from '../core/names.js';
import { Role, type BanEntry } from '../core/room.js';

export type Op = string[];

/** The ops of `event` for the room whose folded name is `room`. */
export function roomOps(event: ChatEvent, room: string, defaultRoom: string): Op[] {
  switch (event.type) {
    case 'joined': {
      const ops: Op[] = [];
      if (event.restore) {
        ops.push(['init', JSON.stringify(event.restore.fields)]);
        for (const b of event.restore.bans) ops.push(['ban', fold(b.mask), JSON.stringify(b)]);
        for (const [name, until] of event.restore.mutes) {
          ops.push(['mute', name, until === null ? '' : String(until)]);
        }
      }
      const member = {
        name: event.who.name,
        mask: event.who.mask,
        account: event.who.account,
        realname: event.realname,
        away: event.away ?? null,
        ...(event.who.bot ? { bot: true } : {}),
        origin: event.origin,
      };
      ops.push([
        'join',
        fold(event.who.name),
        JSON.stringify(member),
        room === fold(defaultRoom) ? '1' : '0',
        event.who.account ?? '',
      ]);
      return ops;
    }
    case 'left':
    case 'quit':
      // With the leaver's session: only its own membership goes (see SEQUENCE 'leave').
      return [['leave', fold(event.who.name), event.origin]];
    case 'kick':
      return [['leave', fold(event.name)]];
    case 'nick':
      return [['rename', fold(event.who.name), fold(event.newName), event.newName]];
    case 'away':
      return [['field', fold(event.who.name), 'away', JSON.stringify(event.message)]];
    case 'account':
      return [['field', fold(event.who.name), 'account', JSON.stringify(event.who.account)]];
    case 'realname':
      return [['field', fold(event.who.name), 'realname', JSON.stringify(event.realname)]];
    case 'host': {
      const mask = `${event.who.name}!${event.user}@${event.host}`;
      return [['field', fold(event.who.name), 'mask', JSON.stringify(mask)]];
    }
    case 'topic':
      return [
        ['set', 'topic', event.topic],
        ['set', 'topicBy', event.by.mask],
        ['set', 'topicAt', String(event.ts)],
      ];
    case 'invite':
      return [['invite', fold(event.name)]];
    case 'mode': {
      const ops: Op[] = [];
      for (const c of event.changes) {
        switch (c.kind) {
          case 'flag':
            ops.push(['set', `flag:${c.flag}`, c.on ? '1' : '0']);
            break;
          case 'key':
            ops.push(['set', 'key', c.key ?? '']);
            break;
          case 'limit':
            ops.push(['set', 'limit', String(c.limit)]);
            break;
          case 'owner':
            ops.push(['set', 'owner', c.account ?? '']);
            break;
          case 'role':
            ops.push([
              'role',
              fold(c.name),
              String(c.role === 'op' ? Role.Op : Role.Voice),
              c.on ? '1' : '0',
            ]);
            break;
          case 'ban':
            if (c.on) {
              const ban: BanEntry = {
                mask: c.mask,
                by: event.by.mask,
                at: event.ts,
                ...(c.reason ? { reason: c.reason } : {}),
                expiresAt: c.expiresAt ?? null,
              };
              ops.push(['ban', fold(c.mask), JSON.stringify(ban)]);
            } else ops.push(['unban', fold(c.mask)]);
            break;
          case 'mute':
            ops.push(
              c.on
                ? ['mute', fold(c.name), c.until === null ? '' : String(c.until)]
                : ['unmute', fold(c.name)],
            );
            break;
        }
      }
      return ops;
    }
    default:
      return [];
  }
}
