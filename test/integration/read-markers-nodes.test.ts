/**
 * A read marker crosses nodes: two nodes on the async test bus's wire, sharing one store
 * (as a cluster shares PostgreSQL). The account's connection on the other node hears the
 * change through the bus, the way every event does.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AsyncBus, AsyncWire } from '../../src/cluster/async.js';
import { silentLogger } from '../../src/core/ports.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { MemoryStore } from '../../src/store/memory.js';
import { ircClient } from '../helpers/irc-setup.js';
import { portOf, testConfig } from '../helpers/server.js';

let a: RunningServer;
let b: RunningServer;
beforeAll(async () => {
  const wire = new AsyncWire();
  const store = new MemoryStore(100);
  const args = ['--irc-port', '0', '--flood-rate', '0'];
  a = await startServer(testConfig(args), silentLogger, { bus: new AsyncBus(wire), store });
  b = await startServer(testConfig(args), silentLogger, { bus: new AsyncBus(wire), store });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

/** Registers with draft/read-marker; with `sasl`, logged in as that account. */
const client = (port: number, nick: string, sasl?: string) =>
  ircClient(port, nick, `draft/read-marker${sasl ? ' sasl' : ''}`, {
    sasl: sasl ? { account: sasl, password: 'two-nodes-pw' } : undefined,
  });

test("MARKREAD on one node reaches the account's connection on the other", async () => {
  const here = await client(portOf(a, 'irc'), 'mnode');
  here.send('PRIVMSG NickServ :REGISTER two-nodes-pw');
  await here.expect(/ is now registered to you/);
  const there = await client(portOf(b, 'irc'), 'mnode2', 'mnode');
  for (const c of [here, there]) {
    c.send('JOIN #marks');
    await c.expect(/ 366 \S+ #marks /);
  }
  here.send('MARKREAD #marks timestamp=2026-05-05T05:05:05.505Z');
  await here.expect(/ MARKREAD #marks timestamp=2026-05-05T05:05:05\.505Z$/);
  await there.expect(/ MARKREAD #marks timestamp=2026-05-05T05:05:05\.505Z$/);
  // The other node reads it from the shared store too.
  there.send('MARKREAD #marks');
  await there.expect(/ MARKREAD #marks timestamp=2026-05-05T05:05:05\.505Z$/);
  expect(there.lines.filter((l) => l.includes(' MARKREAD #marks timestamp=')).length).toBe(2);
  here.close();
  there.close();
});
