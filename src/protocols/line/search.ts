/**
 * `/search [ROOM] TEXT` and `/more` for the line protocol: matches printed as history
 * lines are (with the day, since a match can be old, and the room), newest first, a page
 * at a time; `/more` shows the next, older page of this connection's last search.
 */
import { ChatError, ErrorCode } from '../../core/errors.js';
import { fold, normalizeRoom } from '../../core/names.js';
import { search, type SearchHit, type SearchRequest } from '../../core/search.js';
import type { Session } from '../../core/session.js';
import { clock } from '../../core/text.js';
import type { CommandContext, LineCommand } from './commands.js';
import type { OutLine } from './encoder.js';

/** Each connection's last search and where its next page starts. */
const last = new WeakMap<Session, SearchRequest & { next: string }>();

/** `2026-12-01 09:12` in the server's time zone, as `clock` shows the time. */
function stamp(ts: number): string {
  const d = new Date(ts);
  const mm = String(d.getMonth() + 1).padStart(2, '0');
  const dd = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${mm}-${dd} ${clock(ts)}`;
}

/** A match as a history line: `[day time] #room <from> text`, private ones as /msg shows them. */
export function hitLine(h: SearchHit, me: string | null): OutLine {
  let who: string;
  if (h.room === null) {
    const mine = me !== null && fold(h.from) === fold(me);
    who = mine ? `-> *${h.with ?? '?'}*` : h.kind === 'me' ? `*${h.from}* *` : `*${h.from}*`;
  } else {
    who =
      h.kind === 'me'
        ? `${h.room} * ${h.from}`
        : h.kind === 'notice'
          ? `${h.room} -${h.from}-`
          : `${h.room} <${h.from}>`;
  }
  const prefix = `[${stamp(h.ts)}] ${who} `;
  return { text: prefix + h.text, prefix };
}

async function run(ctx: CommandContext, req: SearchRequest): Promise<void> {
  const found = await search(ctx.hub, ctx.session, req);
  const where = req.room !== undefined ? `in ${req.room}` : 'in your rooms';
  const what = `"${found.terms.join(' ')}"`;
  if (found.hits.length === 0) {
    last.delete(ctx.session);
    ctx.reply(
      found.next === null
        ? `* Nothing found for ${what} ${where}${req.before !== undefined ? ' before those' : ''}`
        : `* Nothing found for ${what} ${where} in the newest matches looked at; /more looks further back`,
    );
    if (found.next !== null) last.set(ctx.session, { ...req, next: found.next });
    return;
  }
  const n = found.hits.length;
  ctx.reply(
    `* ${n} message${n === 1 ? '' : 's'} ${req.before !== undefined ? 'further back ' : ''}for ${what} ${where}, newest first:`,
  );
  await ctx.sendLines(found.hits.map((h) => hitLine(h, ctx.session.account)));
  if (found.next === null) {
    last.delete(ctx.session);
    ctx.reply('* No more matches');
  } else {
    last.set(ctx.session, { ...req, next: found.next });
    ctx.reply('* More: /more for older matches');
  }
}

export const searchCommands: LineCommand[] = [
  {
    name: 'search',
    usage: '/search [ROOM] TEXT',
    help: 'find messages in your rooms (or ROOM), newest first',
    minArgs: 1,
    async run(ctx) {
      const first = ctx.argv[0] as string;
      // A first word starting with # names the room; the words are the rest.
      const room = first.startsWith('#') && ctx.argv.length > 1 ? normalizeRoom(first) : undefined;
      const text = room === undefined ? ctx.rest(0) : ctx.rest(1);
      await run(ctx, { text, ...(room !== undefined ? { room } : {}) });
    },
  },
  {
    name: 'more',
    usage: '/more',
    help: 'the next, older page of your last search',
    minArgs: 0,
    async run(ctx) {
      const prev = last.get(ctx.session);
      if (!prev) {
        throw new ChatError(ErrorCode.BadRequest, 'No search to continue: /search TEXT first');
      }
      const { next, ...req } = prev;
      await run(ctx, { ...req, before: next });
    },
  },
];
