/**
 * Event playback and CHGHOST across a cluster: two servers on one redis-server bus and one
 * PostgreSQL. A room event is kept once, by the node that emitted it, although both nodes
 * deliver it; an operator on one node changes the host of someone on the other, and both
 * nodes' members, WHOIS and masks follow.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ask, ircClient } from '../helpers/irc-setup.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let redis: TestRedis;
let postgres: TestPostgres;
let a: RunningServer;
let b: RunningServer;
let n = 0;
const unique = (base: string) => `${base}${(++n).toString(36)}${Date.now().toString(36).slice(-3)}`;
const PLAYBACK =
  'batch server-time message-tags echo-message draft/chathistory draft/event-playback';

beforeAll(async () => {
  redis = await startRedis();
  postgres = await startPostgres();
  const args = ['--irc-port', '0', '--flood-rate', '0', '--oper', 'boss:pw'];
  const shared = ['--bus', redis.url, '--store', postgres.url];
  a = await startTestServer([...args, ...shared]);
  b = await startTestServer([...args, ...shared]);
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.dispose();
  postgres?.stop();
});

/** Registers on `server` with `caps` ('': no CAP at all). */
const client = (server: RunningServer, nick: string, caps = '') =>
  ircClient(portOf(server, 'irc'), nick, caps);

test(
  'a join is kept once; CHGHOST from one node reaches the other',
  { timeout: 60_000 },
  async () => {
    const room = `#${unique('cl')}`;
    const alice = await client(a, unique('alice'), `${PLAYBACK} chghost`);
    const bob = await client(b, unique('bob'));
    await ask(alice, `JOIN ${room}`);
    await ask(bob, `JOIN ${room}`);
    await alice.expect(new RegExp(`:${bob.nick}!\\S+ JOIN ${room}$`));

    // bob's join, emitted on b and delivered on both, is in history once.
    const history = await ask(alice, `CHATHISTORY LATEST ${room} * 10`);
    const joins = history.filter((l) => new RegExp(`:${bob.nick}!\\S+ JOIN `).test(l));
    expect(joins, history.join('\n')).toHaveLength(1);
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    const rows = await db.query(
      "SELECT count(*)::int AS n FROM room_events WHERE room_key = $1 AND kind = 'join'",
      [room.toLowerCase()],
    );
    await db.end();
    expect(rows.rows[0]).toEqual({ n: 2 }); // alice's and bob's, one row each

    const boss = await client(b, unique('boss'));
    await ask(boss, 'OPER boss pw');
    await ask(boss, `CHGHOST ${alice.nick} far.cloak`);
    const changed = await alice.expect(/ CHGHOST /);
    expect(changed.slice(changed.indexOf(' ') + 1)).toBe(
      `:${alice.nick}!~${alice.nick}@127.0.0.1 CHGHOST ~${alice.nick} far.cloak`,
    );
    await bob.expect(new RegExp(`:${alice.nick}!~${alice.nick}@far.cloak JOIN ${room}$`));
    expect(await bob.expect(/ MODE /)).toMatch(new RegExp(`MODE ${room} \\+o ${alice.nick}$`));
    const whois = await ask(bob, `WHOIS ${alice.nick}`);
    expect(whois.find((l) => / 311 /.test(l))).toContain(` ~${alice.nick} far.cloak * `);
    alice.send(`PRIVMSG ${room} :from afar`);
    expect(await bob.expect(/ :from afar$/)).toBe(
      `:${alice.nick}!~${alice.nick}@far.cloak PRIVMSG ${room} :from afar`,
    );
    for (const c of [alice, bob, boss]) c.close();
  },
);

test(
  'CHGHOST reaches an extended-monitor watcher on the other node; 378 shows the real address there',
  { timeout: 60_000 },
  async () => {
    const target = await client(a, unique('tgt'));
    const watcher = await client(b, unique('watch'), 'extended-monitor chghost');
    expect((await ask(watcher, `MONITOR + ${target.nick}`)).join('\n')).toMatch(/ 730 /);
    const boss = await client(b, unique('boss'));
    await ask(boss, 'OPER boss pw');
    await ask(boss, `CHGHOST ${target.nick} watched.far`);
    expect(await watcher.expect(/ CHGHOST /)).toBe(
      `:${target.nick}!~${target.nick}@127.0.0.1 CHGHOST ~${target.nick} watched.far`,
    );
    await target.expect(/ 396 /);
    // An operator on b sees where the person on a really connects from; others do not.
    const whois = await ask(boss, `WHOIS ${target.nick}`);
    expect(whois.find((l) => / 378 /.test(l))).toBe(
      `:test.plugboard 378 ${boss.nick} ${target.nick} :is connecting from *@127.0.0.1 127.0.0.1`,
    );
    expect((await ask(watcher, `WHOIS ${target.nick}`)).some((l) => / 378 /.test(l))).toBe(false);
    for (const c of [target, watcher, boss]) c.close();
  },
);
