/**
 * Renames recorded at once on a cluster: three nodes on one redis-server and one
 * PostgreSQL; two nodes rename two different rooms at the same moment, and both renames
 * are remembered (core/rename.ts: the store's renames, one row each). The third node,
 * which held neither room and so knows them only from the store, leads a JSON client
 * joining either old name to its new one (within --rename-grace). When the renames were a
 * list in one setting that each renaming node read, changed and wrote back, the two nodes
 * read the same list and the second write dropped the first's record.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { RawFramedClient } from '../../helpers/framed-client.js';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { portOf, testConfig } from '../../helpers/server.js';

/** Rounds of two renames at once: the old list lost one in most of them. */
const ROUNDS = 6;
/** How long a round's records may take to land (the renaming node's queued write). */
const LAND_MS = 3000;

let redis: TestRedis;
let postgres: TestPostgres;
let nodes: RunningServer[] = [];

beforeAll(async () => {
  redis = await startRedis();
  postgres = await startPostgres();
  for (let i = 0; i < 3; i++) {
    nodes.push(
      await startServer(
        testConfig([
          ...['--bus', redis.url, '--store', postgres.url],
          ...['--irc-port', '0', '--framed-port', '0', '--flood-rate', '0'],
        ]),
        silentLogger,
      ),
    );
  }
}, 60_000);
afterAll(async () => {
  for (const s of nodes) await s.close();
  nodes = [];
  await redis?.dispose();
  postgres?.stop();
});

async function renamer(server: RunningServer, nick: string, room: string): Promise<RawIrcClient> {
  const c = await RawIrcClient.connect(portOf(server, 'irc'));
  c.send('CAP REQ :draft/channel-rename');
  await c.expect(/ CAP \* ACK /);
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick}`);
  c.send('CAP END');
  await c.expect(/ 001 /);
  c.send(`JOIN ${room}`);
  await c.expect(new RegExp(` 366 \\S+ ${room} `));
  return c;
}

test('two nodes renaming two rooms at once: both renames remembered, a third node leads both old names on', async () => {
  const [a, b, c] = nodes as [RunningServer, RunningServer, RunningServer];
  const tag = Date.now().toString(36).slice(-4);
  const lost: string[] = [];
  const json = await RawFramedClient.hello(portOf(c, 'framed'), `watcher${tag}`);
  for (let round = 0; round < ROUNDS; round++) {
    const renames = [
      { node: a, nick: `alice${round}${tag}`, from: `#ra${round}${tag}`, to: `#na${round}${tag}` },
      { node: b, nick: `bob${round}${tag}`, from: `#rb${round}${tag}`, to: `#nb${round}${tag}` },
    ];
    const clients = await Promise.all(renames.map((r) => renamer(r.node, r.nick, r.from)));
    // Both in the same turn: the two nodes make and record their renames side by side.
    renames.forEach((r, i) => clients[i]?.send(`RENAME ${r.from} ${r.to} :round ${round}`));
    await Promise.all(
      renames.map((r, i) => clients[i]?.expect(new RegExp(` RENAME ${r.from} ${r.to} `))),
    );
    // The third node knows the renames only from the store: wait (bounded) for both.
    const deadline = Date.now() + LAND_MS;
    const known = async () =>
      Promise.all(renames.map(async (r) => (await c.hub.renames.current(r.from))?.to));
    let seen = await known();
    while (seen.some((to, i) => to !== renames[i]?.to) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      seen = await known();
    }
    renames.forEach((r, i) => {
      if (seen[i] !== r.to) lost.push(`round ${round}: ${r.from} → ${r.to} (saw ${seen[i]})`);
    });
    for (const cl of clients) cl.close();
  }
  expect(lost, lost.join('\n')).toEqual([]);

  // A client on the third node joining an old name is led to the room under its new name.
  for (const [i, side] of ['a', 'b'].entries()) {
    const from = `#r${side}0${tag}`;
    const to = `#n${side}0${tag}`;
    json.send({ type: 'join', room: from, ref: i });
    const told = await json.expect((m) => m.type === 'rename' && m.room === from);
    expect(told).toMatchObject({ to, reason: 'round 0' });
    await json.expect((m) => m.type === 'joined' && m.room === to && m.ref === i);
  }
  json.close();
}, 60_000);
