/**
 * MARKREAD (IRCv3 draft/read-marker, ircv3.net/specs/extensions/read-marker): asks for or
 * moves the read marker of a channel or a private conversation. The marker is the one
 * every protocol shares (core/read-markers.ts): a change reaches every connection of the
 * account, on every node, as a MARKREAD from the server; the setter gets the marker in
 * effect, which is the stored one when it was further on.
 */
import type { Room } from '../../../core/room.js';
import { ChatError } from '../../../core/errors.js';
import { markerAt } from '../../../core/read-markers.js';
import { Cap } from '../caps.js';
import { parseTimestamp } from '../chathistory-request.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { markreadTime } from '../encoder.js';

function fail(c: IrcClient, code: string, ...params: string[]): void {
  c.fail('MARKREAD', code, ...params);
}

/** `timestamp=<time>` as a marker, or null (`*` is the server's word for "none", not ours). */
export function parseMarkread(param: string): string | null {
  if (!param.toLowerCase().startsWith('timestamp=')) return null;
  const ms = parseTimestamp(param.slice('timestamp='.length));
  return ms === null ? null : markerAt(ms);
}

async function markread(c: IrcClient, params: string[]): Promise<void> {
  const target = params[0];
  if (target === undefined || target === '') {
    fail(c, 'NEED_MORE_PARAMS', 'Missing target');
    return;
  }
  const markers = c.hub.readMarkers;
  try {
    if (params.length < 2) {
      const held = await markers.get(c.session, target);
      c.fromServer('MARKREAD', target, markreadTime(held?.id ?? null));
      return;
    }
    const id = parseMarkread(params[1] as string);
    if (id === null) {
      fail(c, 'INVALID_PARAMS', target, 'The marker must be timestamp=YYYY-MM-DDThh:mm:ss.sssZ');
      return;
    }
    const { marker, changed } = await markers.set(c.session, target, id);
    // A change came back as the event (to every connection of the account, this one
    // included); otherwise this one is told the marker that stays.
    if (!changed || !c.has(Cap.ReadMarker)) {
      c.fromServer('MARKREAD', target, markreadTime(marker.id));
    }
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    fail(c, 'INVALID_TARGET', target, err.message);
  }
}

/** After a JOIN, before RPL_ENDOFNAMES: the channel's marker (read-marker "JOIN"). */
export async function sendJoinMarker(c: IrcClient, room: Room): Promise<void> {
  if (!c.has(Cap.ReadMarker)) return;
  const held = await c.hub.readMarkers.get(c.session, room.name);
  c.fromServer('MARKREAD', room.name, markreadTime(held?.id ?? null));
}

export const readMarker: IrcCommand[] = [
  { name: 'MARKREAD', minParams: 0, run: (c, m) => markread(c, m.params) },
];
