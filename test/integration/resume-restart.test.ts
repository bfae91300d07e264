/**
 * A real restart of `plugboard serve` (a child process, SQLite, the same ports): the JSON
 * client gets its token with the shutdown and, back with it, its name and exactly what was
 * said meanwhile; the names of people who were connected stay theirs through the restart;
 * a telnet user is told how much they missed and `/since` shows it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { RawFramedClient, type Msg } from '../helpers/framed-client.js';
import { LineClient } from '../helpers/line-client.js';
import { freePort, spawnServer, type ServerProcess } from '../helpers/process.js';

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

test('across a real restart: token, name, exactly the missed messages, telnet /since', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-resume-'));
  const [line, framed] = [await freePort(), await freePort()];
  const args = [
    '--line-port',
    String(line),
    '--framed-port',
    String(framed),
    '--irc-port',
    '-1',
    '--http-port',
    '-1',
    '--udp-port',
    '-1',
    '--store',
    'sqlite',
    '--flood-rate',
    '0',
    '--name-hold',
    '60',
  ];
  let server = await spawnServer(args, {}, dir);
  try {
    const alice = await RawFramedClient.connect(framed);
    alice.send({ type: 'hello', name: 'alice' });
    await alice.expect((m) => m.type === 'welcome');
    const carol = await LineClient.named(line, 'carol');
    let bob = await LineClient.named(line, 'bob');
    for (let i = 0; i < 3; i++) bob.send(`before the restart ${i}`);
    await alice.expect((m) => m.type === 'message' && m.text === 'before the restart 2');
    await carol.expect(/<bob> before the restart 2$/);

    server.child.kill('SIGTERM');
    const bye = await alice.expect((m) => m.type === 'shutdown');
    expect(typeof bye.token).toBe('string');
    await carol.expect(/^\* server shutting down$/);
    await carol.expect(
      /^\* Your name is kept for you for 1 minute: come back from this address, and \/since shows what you missed$/,
    );
    expect(await server.exited).toBe(0);
    alice.close();
    carol.close();
    bob.close();

    server = await spawnServer(args, {}, dir);
    // Held through the restart: nobody else gets these names meanwhile.
    const stranger = await RawFramedClient.connectFrom(framed, '127.0.0.2');
    stranger.send({ type: 'hello', name: 'alice' });
    expect(await stranger.expect((m) => m.type === 'error')).toMatchObject({
      code: 'name_in_use',
    });
    stranger.close();
    const elsewhere = await LineClient.connectFrom(line, '127.0.0.2');
    await elsewhere.expect(/Choose a name: /);
    elsewhere.send('carol');
    await elsewhere.expect(/^! The name carol is already in use$/);
    elsewhere.close();

    // bob comes back from his address (his name is his again) and talks before the others.
    bob = await LineClient.named(line, 'bob');
    expect(bob.lines.some((l) => /^\* Welcome, bob!/.test(l))).toBe(true);
    for (let i = 0; i < 25; i++) bob.send(`while you were away ${i}`);
    const witness = await LineClient.named(line, 'witness');
    witness.send('/history 1');
    await witness.expect(/<bob> while you were away 24$/);

    const back = await RawFramedClient.connect(framed);
    back.send({ type: 'hello', name: 'alice', token: bye.token });
    expect(await back.expect((m) => m.type === 'welcome')).toMatchObject({
      name: 'alice',
      resumed: true,
    });
    const replay = await back.expect((m) => m.type === 'history');
    expect(replay.missed).toBe(25);
    expect((replay.messages as Msg[]).map((e) => e.text)).toEqual(
      Array.from({ length: 25 }, (_, i) => `while you were away ${i}`),
    );

    const carolBack = await LineClient.named(line, 'carol');
    await carolBack.expect(
      /^\* You missed 25 messages in #lobby since \d\d:\d\d — \/since to read them$/,
    );
    carolBack.send('/since');
    await carolBack.expect(/^\* 25 messages in #lobby since \d\d:\d\d:$/);
    for (let i = 0; i < 25; i++) {
      await carolBack.expect(new RegExp(`<bob> while you were away ${i}$`));
    }
    for (const c of [back, carolBack, bob, witness]) c.close();
  } finally {
    await stop(server);
  }
}, 60_000);
