/**
 * The whole server on a full database: a real SQLITE_FULL (PRAGMA max_page_count caps the
 * file, so SQLite refuses to grow it exactly as on a full disk, without root). Senders on
 * the JSON protocol get `store_unavailable` instead of an acknowledgement, /readyz turns
 * 503 and back to 200, everyone gets the degraded and back notices, the metrics say it,
 * and every acknowledged message is in history, in order, once there is room again.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/core/ports.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { RawFramedClient, type Msg } from '../helpers/framed-client.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, testConfig } from '../helpers/server.js';

let server: RunningServer;
let dataDir: string;
beforeAll(async () => {
  const config = testConfig([
    '--store',
    'sqlite',
    '--framed-port',
    '0',
    '--http-port',
    '0',
    '--flood-rate',
    '0',
  ]);
  dataDir = config.dataDir;
  server = await startServer(config, silentLogger);
});
afterAll(() => server?.close());

async function get(path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${portOf(server, 'http')}${path}`);
  return { status: r.status, body: await r.text() };
}

function metric(body: string, name: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

test('a full database: refusals, readiness, notices, metrics; nothing acknowledged lost', async () => {
  const store = server.hub.store as SqliteStore;
  const alice = await RawFramedClient.hello(portOf(server, 'framed'), 'alice');
  const bob = await LineClient.named(portOf(server, 'line'), 'bob');
  expect((await get('/readyz')).status).toBe(200);

  store.setMaxPages(1); // no room to grow from here on
  const acked: string[] = [];
  const refusals: Msg[] = [];
  for (let i = 0; i < 3000 && refusals.length < 20; i++) {
    alice.send({ type: 'say', room: '#lobby', text: `m${i} ${'x'.repeat(1000)}`, ref: i });
    const reply = await alice.expect((m) => m.ref === i && (m.type === 'ok' || m.type === 'error'));
    if (reply.type === 'ok') {
      // Acknowledged after the first refusal would be a message we may not keep.
      expect(refusals).toHaveLength(0);
      acked.push(reply.id as string);
    } else refusals.push(reply);
  }
  expect(acked.length).toBeGreaterThan(0);
  expect(refusals).toHaveLength(20);
  expect(refusals[0]).toMatchObject({
    type: 'error',
    code: 'store_unavailable',
    message: 'History cannot be saved right now, so messages are refused; try again shortly',
  });

  const degraded =
    'The chat is degraded: messages cannot be saved (the disk is full); sending is paused';
  // It may have come in between the replies already.
  if (!alice.messages.some((m) => m.type === 'notice' && m.text === degraded)) {
    await alice.expect((m) => m.type === 'notice' && m.text === degraded);
  }
  await bob.expect(
    /The chat is degraded: messages cannot be saved \(the disk is full\); sending is paused$/,
  );
  const notReady = await get('/readyz');
  expect(notReady.status).toBe(503);
  expect(JSON.parse(notReady.body)).toMatchObject({ status: 'not ready', store: false });
  const down = (await get('/metrics')).body;
  expect(metric(down, 'plugboard_store_healthy')).toBe(0);
  expect(metric(down, 'plugboard_store_write_failures_total')).toBeGreaterThanOrEqual(1);
  expect(metric(down, 'plugboard_store_backlog')).toBeGreaterThan(0);
  // The line protocol refuses too, with the same sentence.
  bob.send('still there?');
  await bob.expect(
    /^! History cannot be saved right now, so messages are refused; try again shortly$/,
  );
  // History still shows what was acknowledged (read from the queue while it waits).
  alice.send({ type: 'history', room: '#lobby', limit: 5, ref: 'h1' });
  const during = await alice.expect((m) => m.type === 'history' && m.ref === 'h1');
  expect((during.messages as { id: string }[]).map((m) => m.id)).toEqual(acked.slice(-5));

  store.setMaxPages(1 << 30); // room again
  const back = 'The chat is back: messages are saved again';
  await alice.expect((m) => m.type === 'notice' && m.text === back, 10_000);
  await bob.expect(/The chat is back: messages are saved again$/);
  expect((await get('/readyz')).status).toBe(200);
  const up = (await get('/metrics')).body;
  expect(metric(up, 'plugboard_store_healthy')).toBe(1);
  expect(metric(up, 'plugboard_store_backlog')).toBe(0);

  // Every acknowledged message is on disk, in order, as another process sees the file.
  const reader = new Database(join(dataDir, 'plugboard.db'), { readonly: true });
  const ids = (
    reader.prepare("SELECT id FROM messages WHERE room_key = '#lobby' ORDER BY id").all() as {
      id: number;
    }[]
  ).map((r) => String(r.id));
  reader.close();
  expect(ids).toEqual(acked);
  process.stdout.write(
    `full database: ${acked.length} acknowledged, ${refusals.length} refused, ${acked.length - ids.length} lost\n`,
  );

  alice.send({ type: 'say', room: '#lobby', text: 'and on we go', ref: 'after' });
  await alice.expect((m) => m.ref === 'after' && m.type === 'ok');
  alice.close();
  bob.close();
});
