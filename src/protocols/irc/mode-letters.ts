/**
 * IRC channel mode letters (RFC 2811 4.2, ISUPPORT CHANMODES=b,k,l,imnst and
 * PREFIX=(ov)@+) and the core's typed room changes, both ways. The core knows no letters:
 * this is where they live. The JSON protocol borrows the letters for its `mode` event's
 * `modes`/`params`, which clients already read.
 */
import type { RoomChange, RoomFlag } from '../../core/room.js';

export const FLAG_LETTERS: Record<RoomFlag, string> = {
  inviteOnly: 'i',
  moderated: 'm',
  noExternal: 'n',
  secret: 's',
  topicLocked: 't',
};

export const LETTER_FLAGS: Record<string, RoomFlag> = {
  i: 'inviteOnly',
  m: 'moderated',
  n: 'noExternal',
  s: 'secret',
  t: 'topicLocked',
};

/** One change as a sign, letter and parameter, or null when IRC has no letter for it. */
function letterOf(c: RoomChange): { on: boolean; letter: string; param?: string } | null {
  switch (c.kind) {
    case 'flag':
      return { on: c.on, letter: FLAG_LETTERS[c.flag] };
    case 'key':
      // The key itself is shown only in the reply to members asking; a change says '*'.
      return c.key === null
        ? { on: false, letter: 'k', param: '*' }
        : { on: true, letter: 'k', param: c.key };
    case 'limit':
      return c.limit === 0
        ? { on: false, letter: 'l' }
        : { on: true, letter: 'l', param: String(c.limit) };
    case 'role':
      return { on: c.on, letter: c.role === 'op' ? 'o' : 'v', param: c.name };
    case 'ban':
      return { on: c.on, letter: 'b', param: c.mask };
    case 'mute':
    case 'owner':
      return null;
  }
}

/**
 * The letters and parameters of a list of changes ("+o-v", ["bob", "carol"]); changes
 * with no letter (mutes, ownership) are left out.
 */
export function toLetters(changes: readonly RoomChange[]): { modes: string; params: string[] } {
  let modes = '';
  let sign = '';
  const params: string[] = [];
  for (const c of changes) {
    const l = letterOf(c);
    if (!l) continue;
    const want = l.on ? '+' : '-';
    if (want !== sign) modes += want;
    sign = want;
    modes += l.letter;
    if (l.param !== undefined) params.push(l.param);
  }
  return { modes, params };
}
