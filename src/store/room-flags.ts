/**
 * How a room's flags are kept in the `modes` column: one letter per flag that is on, the
 * form earlier versions wrote, so existing databases load unchanged. A storage encoding
 * only; the core speaks of flags by name.
 */
import type { RoomFlag } from '../core/room.js';

const CODES: Record<RoomFlag, string> = {
  inviteOnly: 'i',
  moderated: 'm',
  noExternal: 'n',
  secret: 's',
  topicLocked: 't',
};

export function encodeFlags(flags: readonly RoomFlag[]): string {
  return flags.map((f) => CODES[f]).join('');
}

export function decodeFlags(column: string): RoomFlag[] {
  return (Object.keys(CODES) as RoomFlag[]).filter((f) => column.includes(CODES[f]));
}
