/**
 * The typed changes a room's settings can undergo, in a module of their own with no
 * imports: the browser's type-check reads them (through the JSON schema) without pulling
 * in anything of Node.
 */

/** Settings a room operator can switch on and off. */
export type RoomFlag = 'inviteOnly' | 'moderated' | 'noExternal' | 'topicLocked' | 'secret';
export const ROOM_FLAGS: readonly RoomFlag[] = [
  'inviteOnly',
  'moderated',
  'noExternal',
  'secret',
  'topicLocked',
];

/**
 * One typed change to a room's settings. The core knows no IRC letters: protocols
 * translate (IRC `MODE #x +o bob` is `{kind: 'role', role: 'op', name: 'bob', on: true}`).
 */
export type RoomChange =
  | { kind: 'flag'; flag: RoomFlag; on: boolean }
  | { kind: 'key'; key: string | null }
  | { kind: 'limit'; limit: number }
  | { kind: 'role'; role: 'op' | 'voice'; name: string; on: boolean }
  | {
      kind: 'ban';
      mask: string;
      on: boolean;
      reason?: string;
      expiresAt?: number | null;
    }
  | { kind: 'mute'; name: string; until: number | null; on: boolean }
  | { kind: 'owner'; account: string | null };
