/**
 * Line-protocol slash commands as a declarative table: name, usage, how many arguments,
 * and the handler. The table drives /help, usage errors and dispatch.
 */
import { mayList, seesInvisible } from '../../core/access.js';
import { parseDuration } from '../../core/durations.js';
import { ChatError, ErrorCode } from '../../core/errors.js';
import type { Hub } from '../../core/hub.js';
import { normalizeRoom } from '../../core/names.js';
import type { Session } from '../../core/session.js';
import { clock, stripControls } from '../../core/text.js';
import { formatMessage, type OutLine } from './encoder.js';
import { searchCommands } from './search.js';

export interface CommandContext {
  hub: Hub;
  session: Session;
  /** Arguments split on spaces; `rest(n)` is everything from argument n on, verbatim. */
  argv: string[];
  rest(n: number): string;
  /** Most bytes of text a message from this connection may have. */
  maxText: number;
  reply(text: string): void;
  /** Ends the connection after the reply (quit). */
  close(reason: string): void;
  /** Sends recent history of a room to this session. */
  replayHistory(room: string, limit: number): Promise<void>;
  /** Sends lines paced against the send limit, wrapped to the window (a page of results). */
  sendLines(lines: Iterable<OutLine>): Promise<void>;
  /** Sends what a room said since this name was last here (resume.ts). */
  since(room: string): Promise<void>;
  /** `* You missed N messages in ROOM since …`, when this name has a position there. */
  tellMissed(room: string): Promise<void>;
}

export interface LineCommand {
  name: string;
  usage: string;
  help: string;
  minArgs: number;
  run(ctx: CommandContext): void | Promise<void>;
}

/** The one answer to text over the limit, whatever its length (refused whole, never cut). */
export function tooLong(maxText: number): string {
  return `Message too long (at most ${maxText} bytes); nothing was sent`;
}

/** Text to say, refused whole when it is over the limit. */
function sayable(ctx: CommandContext, text: string): string {
  if (Buffer.byteLength(stripControls(text)) > ctx.maxText) {
    throw new ChatError(ErrorCode.BadRequest, tooLong(ctx.maxText));
  }
  return text;
}

function currentRoom(ctx: CommandContext): string {
  const room = ctx.session.current;
  if (!room) throw new ChatError(ErrorCode.NotInRoom, 'You are not in a room: /join ROOM first');
  return room.name;
}

function roomArg(ctx: CommandContext, i: number): string {
  const arg = ctx.argv[i];
  return arg ? normalizeRoom(arg) : currentRoom(ctx);
}

async function joined(ctx: CommandContext, roomName: string, created: boolean): Promise<void> {
  const room = ctx.hub.requireRoom(roomName);
  const others = room.size - 1;
  ctx.reply(
    `* You joined ${room.name}${created && room.isOp(ctx.session) ? ' (new room: you are its operator)' : ''}; ` +
      `${others} other${others === 1 ? '' : 's'} here`,
  );
  if (room.topic) ctx.reply(`* Topic: ${room.topic}`);
  await ctx.replayHistory(room.name, ctx.hub.options.historyOnJoin);
  await ctx.tellMissed(room.name);
}

export const commands: LineCommand[] = [
  {
    name: 'help',
    usage: '/help',
    help: 'list commands',
    minArgs: 0,
    run(ctx) {
      ctx.reply('* Commands:');
      for (const c of commands) ctx.reply(`*   ${c.usage.padEnd(30)} ${c.help}`);
      ctx.reply(
        '* Anything else you type is said in your current room. Start a line with // to say a line starting with /.',
      );
    },
  },
  {
    name: 'nick',
    usage: '/nick NAME',
    help: 'change your name',
    minArgs: 1,
    async run(ctx) {
      await ctx.hub.setName(ctx.session, ctx.argv[0] as string);
    },
  },
  {
    name: 'join',
    usage: '/join ROOM [KEY]',
    help: 'join (or create) a room and make it current',
    minArgs: 1,
    async run(ctx) {
      let name = normalizeRoom(ctx.argv[0] as string);
      const past = await ctx.hub.renames.redirect(ctx.session, name).catch(() => null);
      if (past) {
        // Renamed a moment ago (rename.ts: --rename-grace): where the room went.
        ctx.reply(
          `* ${name} is now ${past.to} (renamed by ${past.by} at ${clock(past.left)}${past.reason ? `: ${past.reason}` : ''}); joining ${past.to}`,
        );
        name = past.to;
      }
      const existing = ctx.hub.room(name);
      if (existing?.has(ctx.session)) {
        ctx.hub.switchTo(ctx.session, name);
        ctx.reply(`* You are already in ${existing.name}; it is now your current room`);
        return;
      }
      const { room, created } = await ctx.hub.join(ctx.session, name, ctx.argv[1]);
      await joined(ctx, room.name, created);
    },
  },
  {
    name: 'part',
    usage: '/part [ROOM] [REASON]',
    help: 'leave a room (default: the current one)',
    minArgs: 0,
    async run(ctx) {
      const room = roomArg(ctx, 0);
      await ctx.hub.part(ctx.session, room, ctx.rest(1));
      const now = ctx.session.current;
      ctx.reply(
        now ? `* Your current room is now ${now.name}` : '* You are in no room now: /join ROOM',
      );
    },
  },
  {
    name: 'switch',
    usage: '/switch ROOM',
    help: 'make one of your rooms the current one',
    minArgs: 1,
    run(ctx) {
      const room = ctx.hub.switchTo(ctx.session, normalizeRoom(ctx.argv[0] as string));
      ctx.reply(`* Your current room is now ${room.name}`);
    },
  },
  {
    name: 'rooms',
    usage: '/rooms',
    help: 'list rooms with members and topic',
    minArgs: 0,
    async run(ctx) {
      const all = await ctx.hub.presence.rooms();
      const rooms = all
        .filter((r) => {
          const local = ctx.hub.room(r.name);
          return local ? mayList(ctx.session, local) : !r.secret || ctx.session.oper;
        })
        .sort((a, b) => b.members - a.members || a.name.localeCompare(b.name));
      ctx.reply(`* ${rooms.length} room${rooms.length === 1 ? '' : 's'}:`);
      for (const r of rooms) {
        ctx.reply(`*   ${r.name} (${r.members})${r.topic ? ` ${r.topic}` : ''}`);
      }
    },
  },
  {
    name: 'who',
    usage: '/who [ROOM]',
    help: 'who is in a room (default: the current one)',
    minArgs: 0,
    async run(ctx) {
      const name = roomArg(ctx, 0);
      const room = ctx.hub.room(name);
      // The access policy (core/access.ts): a secret room is no room to outsiders.
      if (!room || !mayList(ctx.session, room)) {
        throw new ChatError(ErrorCode.NoSuchRoom, `No such room: ${name}`, name);
      }
      const all = seesInvisible(ctx.session, room);
      const members = (await ctx.hub.presence.members(room.name)) ?? [];
      const names = members
        .filter((m) => all || !m.person.invisible)
        .map((m) => {
          const badge = m.op ? '@' : m.voice ? '+' : '';
          return `${badge}${m.person.name}${m.person.away !== null ? ' (away)' : ''}`;
        });
      names.sort((a, b) => a.localeCompare(b));
      ctx.reply(`* In ${room.name} (${names.length}): ${names.join(', ')}`);
    },
  },
  {
    name: 'msg',
    usage: '/msg NAME TEXT',
    help: 'send a private message',
    minArgs: 2,
    async run(ctx) {
      const { target } = await ctx.hub.messaging.dm(
        ctx.session,
        ctx.argv[0] as string,
        sayable(ctx, ctx.rest(1)),
      );
      if (target.away) ctx.reply(`* ${target.name} is away: ${target.away}`);
    },
  },
  {
    name: 'me',
    usage: '/me ACTION',
    help: 'describe an action in the current room',
    minArgs: 1,
    async run(ctx) {
      await ctx.hub.messaging.say(ctx.session, currentRoom(ctx), sayable(ctx, ctx.rest(0)), 'me');
    },
  },
  {
    name: 'topic',
    usage: '/topic [TEXT]',
    help: 'show or set the topic of the current room',
    minArgs: 0,
    async run(ctx) {
      const name = currentRoom(ctx);
      if (ctx.argv.length === 0) {
        const room = ctx.hub.requireRoom(name);
        ctx.reply(
          room.topic ? `* Topic of ${room.name}: ${room.topic}` : `* ${room.name} has no topic`,
        );
        return;
      }
      await ctx.hub.membership.setTopic(ctx.session, name, ctx.rest(0));
    },
  },
  {
    name: 'away',
    usage: '/away [TEXT]',
    help: 'mark yourself away (no text: back)',
    minArgs: 0,
    async run(ctx) {
      const text = ctx.rest(0);
      await ctx.hub.membership.setAway(ctx.session, text ? text : null);
      ctx.reply(
        ctx.session.away !== null
          ? `* You are marked away: ${ctx.session.away}`
          : '* You are no longer marked away',
      );
    },
  },
  {
    name: 'history',
    usage: '/history [N]',
    help: 'show the last N messages of the current room (default 20)',
    minArgs: 0,
    async run(ctx) {
      const n = ctx.argv[0] === undefined ? 20 : Number(ctx.argv[0]);
      if (!Number.isInteger(n) || n < 1 || n > 1000) {
        throw new ChatError(ErrorCode.BadRequest, 'usage: /history [N] (N between 1 and 1000)');
      }
      await ctx.replayHistory(currentRoom(ctx), n);
    },
  },
  ...searchCommands,
  {
    name: 'since',
    usage: '/since [ROOM]',
    help: 'show what a room said while you were away (default: the current room)',
    minArgs: 0,
    async run(ctx) {
      await ctx.since(roomArg(ctx, 0));
    },
  },
  {
    name: 'oper',
    usage: '/oper NAME PASSWORD',
    help: 'become a server operator',
    minArgs: 2,
    run(ctx) {
      if (!ctx.hub.moderation.oper(ctx.session, ctx.argv[0] as string, ctx.argv[1] as string)) {
        throw new ChatError(ErrorCode.PermissionDenied, 'Wrong operator name or password');
      }
      ctx.reply('* You are now a server operator');
    },
  },
  {
    name: 'kick',
    usage: '/kick ROOM NAME [REASON]',
    help: 'remove someone from a room (operators)',
    minArgs: 2,
    async run(ctx) {
      await ctx.hub.moderation.kick(
        ctx.session,
        normalizeRoom(ctx.argv[0] as string),
        ctx.argv[1] as string,
        ctx.rest(2),
      );
    },
  },
  {
    name: 'register',
    usage: '/register PASSWORD',
    help: 'protect your current name with a password',
    minArgs: 1,
    async run(ctx) {
      await ctx.hub.accounts.register(ctx.session, ctx.rest(0));
      ctx.reply(`* ${ctx.session.name} is now registered to you; next time, /identify PASSWORD`);
    },
  },
  {
    name: 'identify',
    usage: '/identify [NAME] PASSWORD',
    help: 'log in to your account',
    minArgs: 1,
    async run(ctx) {
      const [a, b] = ctx.argv;
      const account =
        b === undefined
          ? await ctx.hub.accounts.identify(ctx.session, a as string)
          : await ctx.hub.accounts.identify(ctx.session, b, a);
      ctx.reply(`* You are now identified as ${account}`);
    },
  },
  {
    name: 'ban',
    usage: '/ban ROOM NAME [REASON]',
    help: 'ban someone from a room until unbanned (operators)',
    minArgs: 2,
    async run(ctx) {
      const room = normalizeRoom(ctx.argv[0] as string);
      const mask = await ctx.hub.moderation.ban(
        ctx.session,
        room,
        ctx.argv[1] as string,
        ctx.rest(2),
        null,
      );
      ctx.reply(`* Banned ${mask} from ${room}`);
    },
  },
  {
    name: 'tempban',
    usage: '/tempban ROOM NAME DURATION [REASON]',
    help: 'ban for a while, e.g. 10m, 2h, 7d (operators)',
    minArgs: 3,
    async run(ctx) {
      const room = normalizeRoom(ctx.argv[0] as string);
      const ms = parseDuration(ctx.argv[2] as string);
      if (ms === null)
        throw new ChatError(
          ErrorCode.BadRequest,
          'usage: /tempban ROOM NAME DURATION [REASON] (DURATION like 30s, 10m, 2h, 7d)',
        );
      const mask = await ctx.hub.moderation.ban(
        ctx.session,
        room,
        ctx.argv[1] as string,
        ctx.rest(3),
        ms,
      );
      ctx.reply(`* Banned ${mask} from ${room} for ${ctx.argv[2]}`);
    },
  },
  {
    name: 'unban',
    usage: '/unban ROOM NAME',
    help: 'lift a ban (operators)',
    minArgs: 2,
    async run(ctx) {
      const room = normalizeRoom(ctx.argv[0] as string);
      await ctx.hub.moderation.unban(ctx.session, room, ctx.argv[1] as string);
      ctx.reply(`* Unbanned ${ctx.argv[1]} in ${room}`);
    },
  },
  {
    name: 'mute',
    usage: '/mute ROOM NAME [DURATION]',
    help: 'silence someone in a room, for a while or until unmuted (operators)',
    minArgs: 2,
    async run(ctx) {
      const duration = ctx.argv[2];
      const ms = duration === undefined ? null : parseDuration(duration);
      if (duration !== undefined && ms === null)
        throw new ChatError(
          ErrorCode.BadRequest,
          'usage: /mute ROOM NAME [DURATION] (DURATION like 30s, 10m, 2h)',
        );
      await ctx.hub.moderation.mute(
        ctx.session,
        normalizeRoom(ctx.argv[0] as string),
        ctx.argv[1] as string,
        ms,
      );
    },
  },
  {
    name: 'unmute',
    usage: '/unmute ROOM NAME',
    help: 'let a muted person speak again (operators)',
    minArgs: 2,
    async run(ctx) {
      await ctx.hub.moderation.unmute(
        ctx.session,
        normalizeRoom(ctx.argv[0] as string),
        ctx.argv[1] as string,
      );
    },
  },
  {
    name: 'op',
    usage: '/op ROOM NAME',
    help: 'make someone an operator of a room (operators)',
    minArgs: 2,
    async run(ctx) {
      await ctx.hub.moderation.change(ctx.session, normalizeRoom(ctx.argv[0] as string), [
        { kind: 'role', role: 'op', name: ctx.argv[1] as string, on: true },
      ]);
    },
  },
  {
    name: 'deop',
    usage: '/deop ROOM NAME',
    help: "take away someone's operator status (operators)",
    minArgs: 2,
    async run(ctx) {
      await ctx.hub.moderation.change(ctx.session, normalizeRoom(ctx.argv[0] as string), [
        { kind: 'role', role: 'op', name: ctx.argv[1] as string, on: false },
      ]);
    },
  },
  {
    name: 'topiclock',
    usage: '/topiclock ROOM on|off',
    help: 'only operators may change the topic while on (operators)',
    minArgs: 2,
    async run(ctx) {
      const on = ctx.argv[1]?.toLowerCase();
      if (on !== 'on' && on !== 'off')
        throw new ChatError(ErrorCode.BadRequest, 'usage: /topiclock ROOM on|off');
      await ctx.hub.moderation.change(ctx.session, normalizeRoom(ctx.argv[0] as string), [
        { kind: 'flag', flag: 'topicLocked', on: on === 'on' },
      ]);
    },
  },
  {
    name: 'rename',
    usage: '/rename ROOM NEWNAME [REASON]',
    help: 'give a room a new name; everything in it follows (operators)',
    minArgs: 2,
    async run(ctx) {
      // Everyone in the room, this person included, is told by the rename event itself.
      await ctx.hub.rename(
        ctx.session,
        normalizeRoom(ctx.argv[0] as string),
        normalizeRoom(ctx.argv[1] as string),
        ctx.rest(2),
      );
    },
  },
  {
    name: 'claim',
    usage: '/claim ROOM',
    help: 'own a room you operate, permanently (identified accounts)',
    minArgs: 1,
    async run(ctx) {
      const room = await ctx.hub.moderation.claim(
        ctx.session,
        normalizeRoom(ctx.argv[0] as string),
      );
      ctx.reply(`* You now own ${room.name}`);
    },
  },
  {
    name: 'kill',
    usage: '/kill NAME [REASON]',
    help: 'disconnect someone from the server (server operators)',
    minArgs: 1,
    async run(ctx) {
      const target = await ctx.hub.moderation.kill(
        ctx.session,
        ctx.argv[0] as string,
        ctx.rest(1) || 'no reason',
      );
      ctx.reply(`* Killed ${target}`);
    },
  },
  {
    name: 'ghost',
    usage: '/ghost NAME PASSWORD',
    help: 'take your registered name back from a connection holding it, and use it',
    minArgs: 2,
    async run(ctx) {
      const name = await ctx.hub.accounts.reclaim(
        ctx.session,
        ctx.argv[0] as string,
        ctx.rest(1),
        true,
      );
      ctx.reply(`* ${name} is yours again`);
    },
  },
  {
    name: 'quit',
    usage: '/quit [REASON]',
    help: 'leave the chat',
    minArgs: 0,
    run(ctx) {
      const reason = ctx.rest(0);
      ctx.close(reason ? `quit: ${reason}` : 'quit');
    },
  },
];

export const commandsByName = new Map(commands.map((c) => [c.name, c]));

/** Formats a stored entry the way live messages look. */
export function formatHistory(entry: {
  ts: number;
  from: string;
  text: string;
  kind: string;
}): OutLine {
  return formatMessage(entry.ts, null, entry.from, entry.text, entry.kind);
}
