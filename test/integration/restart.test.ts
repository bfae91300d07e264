import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const OFF = [
  '--framed-port',
  '-1',
  '--irc-port',
  '-1',
  '--http-port',
  '-1',
  '--udp-port',
  '-1',
  '--flood-rate',
  '0',
  '--history-on-join',
  '0',
];

async function stop(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  server.child.kill(signal);
  await server.exited;
}

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

describe.each([
  ['sqlite', () => 'sqlite'],
  ['postgres', () => `${pg.url}`],
])('%s: state survives a restart', (_name, storeSpec) => {
  test('history, accounts, bans, mutes and topics are all there after a clean restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-restart-'));
    const args = ['--line-port', '0', '--store', storeSpec(), ...OFF];
    const room = `#keep${Date.now()}`;
    let server = await spawnServer(args, {}, dir);
    let owner = await LineClient.named(server.ports.line!.port, 'owner');
    const troll = await LineClient.named(server.ports.line!.port, 'troll');
    owner.send('/register owner-pass');
    await owner.expect(/is now registered/);
    owner.send(`/join ${room}`);
    await owner.expect(/You joined/);
    owner.send(`/claim ${room}`);
    await owner.expect(/You now own/);
    owner.send('/topic Kept across restarts');
    await owner.expect(/set the topic/);
    for (let i = 0; i < 5; i++) owner.send(`message ${i}`);
    owner.send(`/ban ${room} troll for good`);
    await owner.expect(/Banned troll/);
    owner.send(`/mute ${room} quietone`);
    await owner.expect(/^! No one is called quietone$/);
    troll.close();
    owner.close();
    await stop(server);

    server = await spawnServer(args, {}, dir);
    const port = server.ports.line!.port;
    owner = await LineClient.named(port, 'owner');
    await owner.expect(/belongs to a registered account/);
    owner.send('/identify owner-pass');
    await owner.expect(/You are now identified as owner/);
    owner.send(`/join ${room}`);
    await owner.expect(new RegExp(`You joined ${room}`));
    await owner.expect(/^\* Topic: Kept across restarts$/);
    owner.send('/history 5');
    for (let i = 0; i < 5; i++) await owner.expect(new RegExp(`<owner> message ${i}$`));
    const again = await LineClient.named(port, 'troll');
    again.send(`/join ${room}`);
    await again.expect(/^! You are banned from #keep/);
    // The owner gets operator status back in their claimed room.
    owner.send(`/who ${room}`);
    await owner.expect(/^\* In #keep\d+ \(1\): @owner$/);
    again.close();
    owner.close();
    await stop(server);
  });
});

test('sqlite: after kill -9, everything older than the flush interval is in history', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-kill-'));
  const args = ['--line-port', '0', '--store', 'sqlite', ...OFF];
  let server = await spawnServer(args, {}, dir);
  const port = server.ports.line!.port;
  const a = await LineClient.named(port, 'writer');
  const b = await LineClient.named(port, 'reader');
  const total = 300;
  for (let i = 0; i < total; i++) a.send(`durable ${i}`);
  await b.expect(new RegExp(`<writer> durable ${total - 1}$`));
  await new Promise((r) => setTimeout(r, 300)); // several flush intervals (50 ms)
  await stop(server, 'SIGKILL');
  a.close();
  b.close();

  server = await spawnServer(args, {}, dir);
  const c = await LineClient.named(server.ports.line!.port, 'checker');
  c.send(`/history ${total}`);
  await c.expect(new RegExp(`^\\* Last ${total} messages in #lobby:$`));
  await c.expect(new RegExp(`<writer> durable ${total - 1}$`));
  c.close();
  await stop(server);
});
