/**
 * An IRC client that comes back under the same nick (a dropped connection, a server
 * restart) is shown exactly what it missed in each room on its first JOIN there: no line
 * it already had, none left out, in order, once; more than `--resume-limit` of it gives
 * the newest and says how many were missed. irssi and WeeChat have no CHATHISTORY, so
 * this is how a plain client comes back without a hole or a repeat.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RawIrcClient } from '../helpers/irc-client.js';
import { ask, ircClient, ircJoin, sync, untag } from '../helpers/irc-setup.js';
import { LineClient } from '../helpers/line-client.js';
import { freePort, spawnServer } from '../helpers/process.js';
import { OTHER_LISTENERS_OFF, portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

/** The texts of the PRIVMSGs to `room` among `lines`, without the replay's time stamp. */
function texts(lines: string[], room: string): string[] {
  const head = ` PRIVMSG ${room} :`;
  return lines
    .map(untag)
    .filter((l) => l.includes(head))
    .map((l) => l.slice(l.indexOf(head) + head.length).replace(/^\[[^\]]+\] /, ''));
}

const notices = (lines: string[], room: string) =>
  lines.map(untag).filter((l) => l.includes(` NOTICE ${room} :`));

/** `bob` says `prefix 0` … `prefix n-1` in his current room; `reader` waits for the last. */
async function talk(
  bob: LineClient,
  reader: RawIrcClient,
  prefix: string,
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) bob.send(`${prefix} ${i}`);
  await reader.expect(new RegExp(`${prefix} ${n - 1}$`));
}

describe('one server, a dropped connection', () => {
  let server: RunningServer;
  let irc: number;
  let line: number;
  beforeAll(async () => {
    server = await startTestServer(['--irc-port', '0', '--flood-rate', '0', '--resume-limit', '5']);
    irc = portOf(server, 'irc');
    line = portOf(server, 'line');
  });
  afterAll(() => server.close());

  /** A line user in `room` to talk, and an IRC user there who stays, to see it said. */
  async function talker(
    name: string,
    room: string,
  ): Promise<{ bob: LineClient; eve: RawIrcClient }> {
    const bob = await LineClient.named(line, name);
    bob.send(`/join ${room}`);
    await bob.expect(new RegExp(`You joined ${room}`));
    const eve = await ircClient(irc, `eve${name}`);
    await ircJoin(eve, room);
    return { bob, eve };
  }

  /**
   * `nick` (with `caps`) is in `room` while bob says `seen` lines, drops (no QUIT), misses
   * `missed` lines, and comes back: what its JOIN of the room brought (`lines`).
   */
  async function awayAndBack(
    nick: string,
    room: string,
    caps: string,
    seen: number,
    missed: number,
  ) {
    const { bob, eve } = await talker(`bob${nick}`, room);
    let ann: RawIrcClient = await ircClient(irc, nick, caps);
    await ircJoin(ann, room);
    await talk(bob, eve, 'seen', seen);
    await ann.expect(new RegExp(`seen ${seen - 1}$`));
    await sync(ann);
    ann.close(); // the connection drops: no QUIT
    await eve.expect(new RegExp(`:${nick}!\\S+ QUIT `));
    if (missed > 0) await talk(bob, eve, 'missed', missed);
    ann = await ircClient(irc, nick, caps);
    const lines = await ask(ann, `JOIN ${room}`);
    return { ann, bob, eve, lines };
  }

  for (const [label, caps] of [
    ['a client without capabilities', ''],
    ['a client with server-time and batch', 'server-time batch'],
  ] as const) {
    test(`${label}: the missed lines, none it had, in order, once`, async () => {
      const room = `#back${caps ? 'b' : 'p'}`;
      const { ann, bob, eve, lines } = await awayAndBack(
        `ann${caps ? 'b' : 'p'}`,
        room,
        caps,
        3,
        4,
      );
      expect(texts(lines, room)).toEqual(['missed 0', 'missed 1', 'missed 2', 'missed 3']);
      expect(notices(lines, room).join('\n')).toMatch(
        new RegExp(
          `:You missed 4 messages in ${room}, since \\S+ \\d\\d:\\d\\d \\(server time\\):$`,
        ),
      );
      if (caps) expect(lines.some((l) => / BATCH \+\S+ chathistory /.test(l))).toBe(true);
      // Live lines go on from there; a later JOIN of the room in this session is an
      // ordinary one (the last lines, as for anyone), not a second "you missed".
      bob.send('live 0');
      await ann.expect(/live 0$/);
      ann.send(`PART ${room}`);
      await ann.expect(new RegExp(` PART ${room}`));
      const again = await ask(ann, `JOIN ${room}`);
      expect(notices(again, room).join('\n')).not.toMatch(/You missed/);
      if (!caps) expect(notices(again, room).join('\n')).toMatch(/:Last 8 messages in /);
      for (const c of [ann, eve]) c.close();
      bob.close();
    });
  }

  test('more missed than --resume-limit: the newest five, and how many there were', async () => {
    const room = '#longgap';
    const { ann, bob, eve, lines } = await awayAndBack('annl', room, '', 1, 8);
    expect(texts(lines, room)).toEqual([
      'missed 3',
      'missed 4',
      'missed 5',
      'missed 6',
      'missed 7',
    ]);
    expect(notices(lines, room).join('\n')).toMatch(
      /:You missed 8 messages in #longgap; the last 5 follow, since /,
    );
    for (const c of [ann, eve]) c.close();
    bob.close();
  });

  test('back with nothing missed: no replay at all (every line is already on screen)', async () => {
    const room = '#nothing';
    const { ann, bob, eve, lines } = await awayAndBack('annn', room, '', 3, 0);
    expect(texts(lines, room)).toEqual([]);
    expect(notices(lines, room)).toEqual([]);
    // A newcomer to the room still gets the usual last lines.
    const cat = await ircClient(irc, 'catn');
    const fresh = await ask(cat, `JOIN ${room}`);
    expect(texts(fresh, room)).toEqual(['seen 0', 'seen 1', 'seen 2']);
    for (const c of [ann, cat, eve]) c.close();
    bob.close();
  });
});

test('across a real restart: the IRC client rejoins to exactly what was said meanwhile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-irc-missed-'));
  const [line, irc] = [await freePort(), await freePort()];
  // Later flags win: the IRC port is turned back on after the others are off.
  const args = [
    ...OTHER_LISTENERS_OFF,
    ...['--line-port', String(line), '--irc-port', String(irc), '--store', 'sqlite'],
    ...['--flood-rate', '0'],
  ];
  let server = await spawnServer(args, {}, dir);
  try {
    let ann: RawIrcClient = await ircClient(irc, 'ann', 'server-time');
    await ircJoin(ann, '#lobby');
    const bob = await LineClient.named(line, 'bob');
    for (let i = 0; i < 3; i++) bob.send(`before ${i}`);
    await ann.expect(/before 2$/);
    server.child.kill('SIGTERM');
    await ann.expect(/^ERROR /);
    expect(await server.exited).toBe(0);
    ann.close();
    bob.close();

    server = await spawnServer(args, {}, dir);
    const carol = await LineClient.named(line, 'carol');
    const eve = await ircClient(irc, 'eve');
    await ircJoin(eve, '#lobby');
    await talk(carol, eve, 'after', 2);
    ann = await ircClient(irc, 'ann', 'server-time');
    const lines = await ask(ann, 'JOIN #lobby');
    expect(texts(lines, '#lobby')).toEqual(['after 0', 'after 1']);
    for (const c of [ann, eve]) c.close();
    carol.close();
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
});
