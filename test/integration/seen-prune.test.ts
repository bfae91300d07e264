/**
 * Where a name stopped reading (`seen:<name>`, for the line protocol's "you missed" and
 * /since) is kept for --seen-days, or --retention-days when that is shorter, and pruned by
 * the retention pass; a recent one stays and still works.
 */
import { expect, test } from 'vitest';
import { runAdminCommand } from '../../src/admin/commands.js';
import type { RunningServer } from '../../src/server.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';

const DAY = 86_400_000;

/** `name` reads #lobby's newest message and leaves: its position is kept under its name. */
async function readAndLeave(server: RunningServer, name: string): Promise<void> {
  const c = await LineClient.named(portOf(server, 'line'), name);
  c.send('/history 1');
  await c.expect(/<talker> /);
  c.send('/quit');
  await c.waitClosed();
}

/** The stored record, made `days` old: as a visit that long ago would have left it. */
async function age(server: RunningServer, name: string, days: number): Promise<void> {
  const { store } = server.hub;
  const raw = (await store.getSetting(`seen:${name}`)) as string;
  const seen = JSON.parse(raw) as { at: number };
  store.setSetting(`seen:${name}`, JSON.stringify({ ...seen, at: Date.now() - days * DAY }));
}

/** What `name` is told on coming back: the "you missed" line, and /since's answer. */
async function comeBack(server: RunningServer, name: string): Promise<string> {
  const c = await LineClient.named(portOf(server, 'line'), name);
  c.send('/since');
  const answer = await c.expect(/^\* (No record of where|\d+ messages? in #lobby since)/);
  c.close();
  return answer;
}

for (const [store, flags, kept, pruned] of [
  // --retention-days 7 is shorter than --seen-days' 30: a 10-day-old position goes.
  ['sqlite', ['--retention-days', '7'], 3, 10],
  // No history window: --seen-days 2 bounds them alone.
  ['memory', ['--seen-days', '2'], 1, 3],
] as const) {
  test(`${store}: positions past their window are pruned with retention, recent ones kept`, async () => {
    const server = await startTestServer(['--store', store, '--flood-rate', '0', ...flags]);
    try {
      const talker = await LineClient.named(portOf(server, 'line'), 'talker');
      talker.send('first');
      for (const name of ['gone', 'stays', 'fresh']) await readAndLeave(server, name);
      await age(server, 'gone', pruned);
      await age(server, 'stays', kept);
      talker.send('while away');
      talker.send('/history 1');
      await talker.expect(/<talker> while away$/);

      await runAdminCommand({ hub: server.hub, shutdown: () => {} }, 'retention run');
      expect(await server.hub.store.getSetting('seen:gone')).toBeNull();
      expect(await comeBack(server, 'gone')).toMatch(/^\* No record of where you stopped/);
      expect(await comeBack(server, 'stays')).toMatch(/^\* 1 message in #lobby since/);
      expect(await comeBack(server, 'fresh')).toMatch(/^\* 1 message in #lobby since/);
      talker.close();
    } finally {
      await server.close();
    }
  });
}
