/**
 * --ack-after-commit: the `ok` a sender gets follows the commit. Read through a second
 * connection to the database file: with the option the acknowledged message is already
 * there; without it, and a long batch interval, it is not yet (the crash window
 * docs/operations.md describes).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { silentLogger } from '../../src/core/ports.js';
import { startServer } from '../../src/server.js';
import { RawFramedClient } from '../helpers/framed-client.js';
import { portOf, testConfig } from '../helpers/server.js';

async function acknowledgedIsOnDisk(extra: string[]): Promise<boolean> {
  const config = testConfig([
    '--store',
    'sqlite',
    '--framed-port',
    '0',
    // Long enough that nothing but the commit an acknowledgement waits for writes it.
    '--store-batch-interval',
    '1500',
    ...extra,
  ]);
  const server = await startServer(config, silentLogger);
  const c = await RawFramedClient.hello(portOf(server, 'framed'), 'acker');
  c.send({ type: 'say', room: '#lobby', text: 'kept?', ref: 1 });
  const ok = await c.expect((m) => m.ref === 1, 5000);
  expect(ok.type).toBe('ok');
  const db = new Database(join(config.dataDir, 'plugboard.db'), { readonly: true });
  const row = db.prepare('SELECT text FROM messages WHERE id = ?').get(BigInt(ok.id as string));
  db.close();
  c.socket.destroy();
  await server.close();
  return row !== undefined;
}

test('with --ack-after-commit the acknowledged message is committed', async () => {
  expect(await acknowledgedIsOnDisk(['--ack-after-commit'])).toBe(true);
});

test('without it the acknowledgement comes first (the documented crash window)', async () => {
  expect(await acknowledgedIsOnDisk([])).toBe(false);
});
