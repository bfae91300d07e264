/**
 * Two nodes in one process, joined by the async test bus's wire: the core as it will run
 * over Redis, minus the shared presence and room state (the next step). People on each
 * node in one room hear each other in every protocol; events from the other node arrive
 * later than the call that caused them, as a networked bus delivers them.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AsyncBus, AsyncWire } from '../../src/cluster/async.js';
import { silentLogger } from '../../src/core/ports.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { RawIrcClient } from '../helpers/irc-client.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, testConfig } from '../helpers/server.js';

let a: RunningServer;
let b: RunningServer;
beforeAll(async () => {
  const wire = new AsyncWire();
  const args = ['--irc-port', '0', '--flood-rate', '0'];
  a = await startServer(testConfig(args), silentLogger, { bus: new AsyncBus(wire) });
  b = await startServer(testConfig(args), silentLogger, { bus: new AsyncBus(wire) });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

test('a room spread over two nodes: line and IRC people on each hear the others', async () => {
  const anna = await LineClient.named(portOf(a, 'line'), 'anna');
  anna.send('/join #both');
  await anna.expect(/You joined #both/);
  const bert = await RawIrcClient.register(portOf(b, 'irc'), 'bert');
  bert.send('JOIN #both');
  await bert.expect(/ 366 bert #both /);
  // anna's node holds #both, so it hears bert's join from the other node.
  await anna.expect(/^\* bert joined #both$/);
  anna.send('hello from node a');
  await bert.expect(/^:anna!anna@127\.0\.0\.1 PRIVMSG #both :hello from node a$/);
  bert.send('PRIVMSG #both :hello from node b');
  await anna.expect(/<bert> hello from node b$/);
  bert.send('TOPIC #both :across nodes');
  await anna.expect(/bert set the topic of #both to: across nodes/);
  // Both replicas applied the same event.
  expect(a.hub.room('#both')?.topic).toBe('across nodes');
  expect(b.hub.room('#both')?.topic).toBe('across nodes');
  bert.send('QUIT :bye now');
  await anna.expect(/^\* bert left \(Quit: bye now\)$/);
  expect(a.hub.room('#both')?.remote.size).toBe(0);
  anna.close();
});
