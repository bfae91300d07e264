import { expect, test } from 'vitest';
import { runAdminCommand } from '../../src/admin/commands.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';

test('retention keeps the newest messages per room, server-wide and per room', async () => {
  const server = await startTestServer([
    '--store',
    'sqlite',
    '--flood-rate',
    '0',
    '--retention-count',
    '6',
  ]);
  const port = portOf(server, 'line');
  const a = await LineClient.named(port, 'rita');
  a.send('/join #small');
  await a.expect(/You joined #small/);
  for (let i = 0; i < 10; i++) a.send(`small ${i}`);
  a.send('/switch #lobby');
  await a.expect(/current room is now #lobby/);
  for (let i = 0; i < 10; i++) a.send(`lobby ${i}`);
  a.send('/history 1');
  await a.expect(/lobby 9$/);
  const ctx = { hub: server.hub, shutdown: () => {} };
  expect(await runAdminCommand(ctx, 'retention #small 0 2')).toEqual([
    'server: any age, 6 messages per room',
    '#small: any age, 2 messages',
  ]);
  expect(await server.hub.retention.run()).toBe(4 + 4 + 4);
  expect(
    (await server.hub.store.history({ room: '#lobby', limit: 100 })).map((e) => e.text),
  ).toEqual([4, 5, 6, 7, 8, 9].map((i) => `lobby ${i}`));
  expect(
    (await server.hub.store.history({ room: '#small', limit: 100 })).map((e) => e.text),
  ).toEqual(['small 8', 'small 9']);
  a.close();
  await server.close();
});
