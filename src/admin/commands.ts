/**
 * Operator commands, shared by the server's console (stdin) and the admin socket.
 * Each returns the lines to show the operator.
 */
import { formatDuration, parseDuration } from '../core/durations.js';
import { ChatError } from '../core/errors.js';
import type { Hub } from '../core/hub.js';
import { normalizeRoom } from '../core/names.js';
import type { TransportStats } from '../transports/stats.js';
import { statsLines, statsSnapshot } from './stats.js';

export interface AdminContext {
  hub: Hub;
  /** Connection limits, lingering sockets, descriptors, UDP: the transports' counts. */
  transport?: TransportStats;
  shutdown(reason: string): void;
}

/**
 * Where a command runs when several worker processes serve one host (see
 * cluster/workers-admin.ts): 'chat' commands act on the whole chat through the bus and the
 * store, so one worker runs them (every worker would say it N times); 'process' commands
 * read or change one process's own state, so every worker runs them; 'host' is the
 * primary's own business (shutdown stops every worker).
 */
export type AdminScope = 'chat' | 'process' | 'host';

/** What the host's own commands need: no hub (a primary has none). */
export type HostContext = Pick<AdminContext, 'shutdown'>;

type AdminCommand = { usage: string; help: string } & (
  | {
      scope: 'chat' | 'process';
      run(ctx: AdminContext, args: string): string[] | Promise<string[]>;
    }
  | { scope: 'host'; run(ctx: HostContext, args: string): string[] | Promise<string[]> }
);

const commands: Record<string, AdminCommand> = {
  help: {
    usage: 'help',
    help: 'list commands',
    scope: 'chat',
    run: () => Object.values(commands).map((c) => `${c.usage.padEnd(26)} ${c.help}`),
  },
  cluster: {
    usage: 'cluster',
    help: 'the nodes of the chat (with a redis:// bus): users per node, Redis round trip',
    scope: 'chat',
    run: async (ctx) => {
      const presence = ctx.hub.presence;
      if (!presence.cluster) return ['one node (the local bus): no cluster'];
      const c = await presence.cluster();
      return [
        `${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}; redis round trip ${c.roundTripMs.toFixed(2)} ms; this node ${ctx.hub.nodeId}`,
        ...c.nodes.map(
          (n) => `  ${n.node}${n.node === ctx.hub.nodeId ? ' (this one)' : ''}: ${n.users} users`,
        ),
      ];
    },
  },
  stats: {
    usage: 'stats',
    help: 'connections, rooms, message rates, evictions, memory',
    scope: 'process',
    run: async (ctx) => {
      const lines = statsLines(statsSnapshot(ctx.hub, ctx.transport));
      // On a shared bus, the whole chat at a glance (the 'cluster' command lists the nodes).
      const presence = ctx.hub.presence;
      if (presence.cluster) {
        const c = await presence.cluster();
        const users = c.nodes.reduce((n, node) => n + node.users, 0);
        lines.push(
          `cluster: ${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}, ${users} users; ` +
            `redis round trip ${c.roundTripMs.toFixed(2)} ms ('cluster' lists the nodes)`,
        );
      }
      return lines;
    },
  },
  who: {
    usage: 'who',
    help: 'everyone online, with protocol, address and rooms',
    scope: 'process',
    run: async (ctx) =>
      (await ctx.hub.presence.people()).map(
        (p) => `${p.name} ${p.protocol} ${p.host} ${p.rooms.join(',')}`,
      ),
  },
  say: {
    usage: 'say TEXT',
    help: 'send a notice to everyone',
    scope: 'chat',
    run: async (ctx, args) => {
      if (!args) return ['usage: say TEXT'];
      await ctx.hub.notice(`[server] ${args}`);
      return ['sent'];
    },
  },
  kick: {
    usage: 'kick NAME [REASON]',
    help: 'disconnect someone',
    scope: 'chat',
    run: async (ctx, args) => {
      const [name, ...rest] = args.split(/\s+/);
      if (!name) return ['usage: kick NAME [REASON]'];
      const target = await ctx.hub.presence.lookup(name);
      if (!target) return [`no one is called ${name}`];
      await ctx.hub.moderation.end(
        target.origin,
        `kicked by the server operator${rest.length ? `: ${rest.join(' ')}` : ''}`,
      );
      return [`kicked ${target.name}`];
    },
  },
  ban: {
    usage: 'ban NAME|MASK [DURATION] [REASON]',
    help: 'ban from the whole server (e.g. ban troll 2h spam, ban *!*@10.0.0.5)',
    scope: 'chat',
    run: async (ctx, args) => {
      const [target, maybeDuration, ...rest] = args.split(/\s+/);
      if (!target) return ['usage: ban NAME|MASK [DURATION] [REASON]'];
      const ms = maybeDuration ? parseDuration(maybeDuration) : null;
      const reason = (ms === null && maybeDuration ? [maybeDuration, ...rest] : rest).join(' ');
      const ban = await ctx.hub.moderation.banServerWide(target, reason, ms);
      return [`banned ${ban.mask}${ms === null ? '' : ` for ${formatDuration(ms)}`}`];
    },
  },
  unban: {
    usage: 'unban NAME|MASK',
    help: 'lift a server-wide ban',
    scope: 'chat',
    run: async (ctx, args) => {
      if (!args) return ['usage: unban NAME|MASK'];
      return [
        (await ctx.hub.moderation.unbanServerWide(args))
          ? `unbanned ${args}`
          : `no ban matches ${args}`,
      ];
    },
  },
  bans: {
    usage: 'bans',
    help: 'list server-wide bans',
    scope: 'process',
    run: (ctx) =>
      ctx.hub.identity.serverBans.length === 0
        ? ['no server-wide bans']
        : ctx.hub.identity.serverBans.map(
            (b) =>
              `${b.mask} by ${b.by}${b.reason ? ` (${b.reason})` : ''}${b.expiresAt ? ` until ${new Date(b.expiresAt).toISOString()}` : ''}`,
          ),
  },
  op: {
    usage: 'op ROOM NAME',
    help: 'make someone an operator of a room (the only way in the default room)',
    scope: 'chat',
    run: async (ctx, args) => {
      const [room, name] = args.split(/\s+/);
      if (!room || !name) return ['usage: op ROOM NAME'];
      const done = await ctx.hub.moderation.adminRole(normalizeRoom(room), name, true);
      return [done.length ? `${name} is an operator of ${normalizeRoom(room)}` : 'no change'];
    },
  },
  deop: {
    usage: 'deop ROOM NAME',
    help: "take away someone's operator status in a room",
    scope: 'chat',
    run: async (ctx, args) => {
      const [room, name] = args.split(/\s+/);
      if (!room || !name) return ['usage: deop ROOM NAME'];
      const done = await ctx.hub.moderation.adminRole(normalizeRoom(room), name, false);
      return [
        done.length ? `${name} is no longer an operator of ${normalizeRoom(room)}` : 'no change',
      ];
    },
  },
  reset: {
    usage: 'reset ROOM',
    help: "put a room's modes back to the defaults (no key, no limit, not invite-only, ...)",
    scope: 'chat',
    run: async (ctx, args) => {
      if (!args) return ['usage: reset ROOM'];
      const done = await ctx.hub.moderation.adminReset(normalizeRoom(args.trim()));
      return [
        done.length
          ? `reset ${done.length} setting(s) of ${normalizeRoom(args.trim())}`
          : 'nothing to reset',
      ];
    },
  },
  retention: {
    usage: 'retention [ROOM DAYS COUNT]',
    help: "show limits, or set a room's own (0 0 clears); 'retention run' prunes now",
    scope: 'process',
    run: (ctx, args) => {
      const [room, days, count] = args.split(/\s+/).filter(Boolean);
      if (room === 'run') {
        void ctx.hub.retention.run();
        return ['pruning in the background'];
      }
      if (room !== undefined) {
        const d = Number(days);
        const c = Number(count);
        if (
          !room.startsWith('#') ||
          !Number.isInteger(d) ||
          !Number.isInteger(c) ||
          d < 0 ||
          c < 0
        ) {
          return ['usage: retention [ROOM DAYS COUNT]'];
        }
        ctx.hub.retention.setRoom(room, d, c);
      }
      return ctx.hub.retention.describe();
    },
  },
  motd: {
    usage: 'motd [set TEXT]',
    help: 'show or set the message of the day (| separates lines)',
    scope: 'process',
    run: (ctx, args) => {
      const m = /^set\s+(.*)$/s.exec(args);
      if (m) {
        ctx.hub.options.motd = (m[1] as string).split('|').map((l) => l.trim());
        ctx.hub.store.setSetting('motd', ctx.hub.options.motd.join('\n'));
      }
      return ctx.hub.options.motd.length ? ctx.hub.options.motd : ['(no message of the day)'];
    },
  },
  shutdown: {
    usage: 'shutdown [REASON]',
    help: 'stop the server, telling everyone why',
    scope: 'host',
    run: (ctx, args) => {
      ctx.shutdown(args || 'server shutting down');
      return ['shutting down'];
    },
  },
};

/** A command line ("say hello" or "/say hello") split into its name and arguments. */
export function parseAdminLine(line: string): { name: string; args: string } | null {
  const trimmed = line.trim().replace(/^\//, '');
  if (!trimmed) return null;
  const space = trimmed.indexOf(' ');
  const name = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  return { name, args: space < 0 ? '' : trimmed.slice(space + 1).trim() };
}

/** The scope of a command line's command; null for an empty line or an unknown command. */
export function adminScope(line: string): AdminScope | null {
  const parsed = parseAdminLine(line);
  if (!parsed || !Object.hasOwn(commands, parsed.name)) return null;
  return (commands[parsed.name] as AdminCommand).scope;
}

/** Runs a 'host' command line without a hub (a primary's shutdown). */
export async function runHostOnlyCommand(ctx: HostContext, line: string): Promise<string[]> {
  const parsed = parseAdminLine(line);
  const cmd = parsed && Object.hasOwn(commands, parsed.name) ? commands[parsed.name] : undefined;
  if (!parsed || cmd?.scope !== 'host') throw new Error(`not a host command: ${line}`);
  return cmd.run(ctx, parsed.args);
}

/** Runs one command line ("say hello" or "/say hello"). */
export async function runAdminCommand(ctx: AdminContext, line: string): Promise<string[]> {
  const parsed = parseAdminLine(line);
  if (!parsed) return [];
  const { name, args } = parsed;
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) return [`unknown command ${name}; try help`];
  try {
    return await cmd.run(ctx, args);
  } catch (err) {
    if (err instanceof ChatError) return [err.message];
    throw err;
  }
}
