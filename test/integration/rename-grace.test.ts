/**
 * What people see after a room rename, over real sockets (core/rename.ts): a telnet user
 * who was away comes back under the same name and is told what they missed in the room
 * under its new name (their saved position followed the rename), in each store; within
 * --rename-grace a join of the old name is led to the new one (IRC with
 * draft/channel-rename: FAIL JOIN CHANNEL_RENAMED; without: 470 and the join; line and
 * JSON: told and joined), while a member of the renamed room gets a new room of the old
 * name; a room operator cannot rename a room again within --rename-cooldown.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { RawFramedClient } from '../helpers/framed-client.js';
import { RawIrcClient } from '../helpers/irc-client.js';
import { LineClient } from '../helpers/line-client.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { portOf, startTestServer } from '../helpers/server.js';

let postgres: TestPostgres | null = null;
afterAll(() => postgres?.stop());

for (const store of ['memory', 'sqlite', 'postgres']) {
  test(`${store}: a line user away during a rename is told what they missed, under the new name`, async () => {
    if (store === 'postgres') postgres ??= await startPostgres();
    const server = await startTestServer([
      '--store',
      store === 'postgres' && postgres ? postgres.url : store,
      '--irc-port',
      '0',
      '--flood-rate',
      '0',
    ]);
    try {
      const alice = await RawIrcClient.withCaps(
        portOf(server, 'irc'),
        'alice',
        'draft/channel-rename',
      );
      await alice.join('#club');
      alice.send('PRIVMSG #club :before');
      const tom = await LineClient.named(portOf(server, 'line'), 'tom');
      tom.send('/join #club');
      await tom.expect(/<alice> before/);
      tom.send('/quit');
      await tom.waitClosed();

      // While tom is away: 2 messages, the rename, 3 more.
      alice.send('PRIVMSG #club :one');
      alice.send('PRIVMSG #club :two');
      alice.send('RENAME #club #society :tidy');
      await alice.expect(/ RENAME #club #society :tidy/);
      for (const t of ['three', 'four', 'five']) alice.send(`PRIVMSG #society :${t}`);
      alice.send('PING sync');
      await alice.expect(/PONG .*sync/);

      const back = await LineClient.named(portOf(server, 'line'), 'tom');
      back.send('/join #club');
      await back.expect(
        /^\* #club is now #society \(renamed by alice at .*: tidy\); joining #society/,
      );
      await back.expect(/^\* You joined #society/);
      await back.expect(/^\* You missed 5 messages in #society since /);
      back.send('/since #society');
      await back.expect(/^\* 5 messages in #society since /);
      await back.expect(/<alice> five/);
      back.close();
      alice.close();
    } finally {
      await server.close();
    }
  });
}

describe('the old name, the grace and the cooldown', () => {
  let server: RunningServer;
  let irc: number;
  let n = 0;
  beforeAll(async () => {
    server = await startTestServer(['--irc-port', '0', '--framed-port', '0', '--flood-rate', '0']);
    irc = portOf(server, 'irc');
  });
  afterAll(() => server.close());

  test('joining the old name: FAIL with the capability, 470 and the join without, line and JSON joined', async () => {
    const old = `#old${++n}`;
    const renamed = `#new${n}`;
    const op = await RawIrcClient.withCaps(irc, `op${n}`, 'draft/channel-rename');
    await op.join(old);
    op.send(`RENAME ${old} ${renamed} :moving`);
    await op.expect(new RegExp(` RENAME ${old} ${renamed} :moving`));

    const modern = await RawIrcClient.withCaps(irc, `modern${n}`, 'draft/channel-rename');
    modern.send(`JOIN ${old}`);
    await modern.expect(
      new RegExp(` FAIL JOIN CHANNEL_RENAMED ${old} ${renamed} :The channel has been renamed`),
    );

    const legacy = await RawIrcClient.register(irc, `legacy${n}`);
    legacy.send(`JOIN ${old}`);
    await legacy.expect(new RegExp(` 470 legacy${n} ${old} ${renamed} :`));
    await legacy.expect(new RegExp(`^:legacy${n}!\\S+ JOIN :?${renamed}`));
    await legacy.expect(new RegExp(` 366 \\S+ ${renamed} `));

    const json = await RawFramedClient.hello(portOf(server, 'framed'), `json${n}`);
    json.send({ type: 'join', room: old, ref: 7 });
    await json.expect((m) => m.type === 'rename' && m.room === old && m.to === renamed);
    await json.expect((m) => m.type === 'joined' && m.room === renamed && m.ref === 7);

    // The modern client was not joined anywhere by its FAIL.
    modern.send('PING done');
    await modern.expect(/PONG .*done/);
    expect(server.hub.room(renamed)?.size).toBe(3);
    for (const c of [op, modern, legacy]) c.close();
    json.close();
  });

  test('a member of the renamed room joining the old name gets a new room (irctest)', async () => {
    const old = `#old${++n}`;
    const renamed = `#new${n}`;
    const op = await RawIrcClient.withCaps(irc, `op${n}`, 'draft/channel-rename');
    const baz = await RawIrcClient.register(irc, `baz${n}`);
    await op.join(old);
    await baz.join(old);
    op.send(`RENAME ${old} ${renamed}`);
    await baz.expect(new RegExp(` 366 \\S+ ${renamed} `));
    await baz.join(old);
    baz.send(`MODE ${old} +k beer`);
    await baz.expect(new RegExp(` MODE ${old} \\+k beer`));
    // Now that a room of the old name exists, nobody is redirected from it.
    const other = await RawIrcClient.withCaps(irc, `other${n}`, 'draft/channel-rename');
    other.send(`JOIN ${old} beer`);
    await other.expect(new RegExp(` 366 \\S+ ${old} `));
    for (const c of [op, baz, other]) c.close();
  });

  test('a room operator cannot rename again within the cooldown; a change of case can', async () => {
    const a = `#cool${++n}`;
    const op = await RawIrcClient.withCaps(irc, `op${n}`, 'draft/channel-rename');
    await op.join(a);
    op.send(`RENAME ${a} #cooler${n}`);
    await op.expect(new RegExp(` RENAME ${a} #cooler${n} `));
    op.send(`RENAME #cooler${n} #coolest${n}`);
    await op.expect(
      new RegExp(
        ` FAIL RENAME CANNOT_RENAME #cooler${n} #coolest${n} :#cooler${n} was renamed recently`,
      ),
    );
    op.send(`RENAME #cooler${n} #COOLER${n}`);
    await op.expect(new RegExp(` RENAME #cooler${n} #COOLER${n} `));
    op.close();
  });
});
