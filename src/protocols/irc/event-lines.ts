/**
 * Kept room events (core/event-history.ts) as the IRC lines CHATHISTORY plays back to a
 * client with draft/event-playback: the same verbs live delivery uses (JOIN, PART, QUIT,
 * KICK, TOPIC, NICK, MODE, TAGMSG), with the tags the caller gives (batch, time, msgid).
 * The client knows they are history by their batch and must not apply them to its state
 * (ircv3.net/specs/extensions/chathistory, "event-playback").
 */
import type { EventEntry } from '../../core/events.js';
import { Cap } from './caps.js';
import { escapeTag } from './codec.js';
import { toLetters } from './mode-letters.js';

function line(tags: string[], rest: string): string {
  return `${tags.length ? `@${tags.join(';')} ` : ''}${rest}\r\n`;
}

/**
 * The line of one kept event for a client with `caps`, or '' when there is none to show
 * (a TAGMSG to a client without message-tags; a mode change without a letter: mutes and
 * ownership live tell the channel in a notice, which is not history). `target` is the
 * room, or for a private TAGMSG the name it was addressed to.
 */
export function eventLine(caps: number, tags: string[], e: EventEntry, target: string): string {
  const d = e.detail;
  const from = `:${e.mask}`;
  switch (d.kind) {
    case 'join':
      return caps & Cap.ExtendedJoin
        ? line(tags, `${from} JOIN ${target} ${d.account ?? '*'} :${d.realname}`)
        : line(tags, `${from} JOIN ${target}`);
    case 'part':
      return line(tags, `${from} PART ${target}${d.reason ? ` :${d.reason}` : ''}`);
    case 'quit':
      return line(tags, `${from} QUIT :${d.reason}`);
    case 'kick':
      return line(tags, `${from} KICK ${target} ${d.name} :${d.reason}`);
    case 'topic':
      return line(tags, `${from} TOPIC ${target} :${d.topic}`);
    case 'nick':
      return line(tags, `${from} NICK :${d.newName}`);
    case 'mode': {
      const { modes, params } = toLetters(d.changes);
      if (!modes) return '';
      return line(
        tags,
        `${from} MODE ${target} ${modes}${params.length ? ` ${params.join(' ')}` : ''}`,
      );
    }
    case 'tag': {
      if (!(caps & Cap.MessageTags)) return '';
      const client = Object.entries(d.tags).map(([k, v]) =>
        v === '' ? k : `${k}=${escapeTag(v)}`,
      );
      return line([...tags, ...client], `${from} TAGMSG ${target}`);
    }
  }
}
