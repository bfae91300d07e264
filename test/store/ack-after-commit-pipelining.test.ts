/**
 * --ack-after-commit without serializing a connection on the store's commits
 * (core/commit-order.ts): a pipelining sender's requests are handled as they come, their
 * replies follow in request order once the commits they wait for are made, and many
 * messages share one commit. Counted in commits (the store's own counter), never in time.
 * During a store outage the requests behind an unanswered message are handled, so a
 * message is refused with `store_unavailable` (in its turn), not held until the store is back.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { silentLogger } from '../../src/core/ports.js';
import { encodeFrame } from '../../src/protocols/framed/codec.js';
import type { RunningServer } from '../../src/server.js';
import { startServer } from '../../src/server.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { RawFramedClient, type Msg } from '../helpers/framed-client.js';
import { RawIrcClient } from '../helpers/irc-client.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, testConfig } from '../helpers/server.js';

const N = 60;
const frame = (obj: object): Buffer => encodeFrame(JSON.stringify(obj));

let server: RunningServer | null = null;
let dataDir = '';
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await server?.close();
  server = null;
});

async function start(extra: string[] = []): Promise<RunningServer> {
  const config = testConfig([
    '--store',
    'sqlite',
    '--framed-port',
    '0',
    '--irc-port',
    '0',
    '--flood-rate',
    '0',
    '--ack-after-commit',
    ...extra,
  ]);
  dataDir = config.dataDir;
  server = await startServer(config, silentLogger);
  return server;
}

const commits = (s: RunningServer): number => s.hub.store.stats?.().commits ?? NaN;

/** The ids of #lobby's messages in the database file, as another process sees it. */
function committedIds(): Set<string> {
  const db = new Database(join(dataDir, 'plugboard.db'), { readonly: true });
  const rows = db.prepare("SELECT id FROM messages WHERE room_key = '#lobby'").all() as {
    id: number | bigint;
  }[];
  db.close();
  return new Set(rows.map((r) => String(r.id)));
}

test(`framed: ${N} pipelined says and a ping are answered in order after a few commits, not ${N}`, async () => {
  const s = await start();
  const port = portOf(s, 'framed');
  const reader = await RawFramedClient.hello(port, 'reader');
  const sender = await RawFramedClient.hello(port, 'sender');
  closers.push(
    () => reader.close(),
    () => sender.close(),
  );
  const before = commits(s);
  const frames: Buffer[] = [];
  for (let i = 1; i <= N; i++)
    frames.push(frame({ type: 'say', room: '#lobby', text: `m${i}`, ref: i }));
  frames.push(frame({ type: 'ping', ref: 'p' }));
  sender.write(Buffer.concat(frames)); // one write: the requests are pipelined

  await sender.expect((m) => m.type === 'pong' && m.ref === 'p', 20_000);
  const used = commits(s) - before;
  // Each `say` waited for its own commit before the next was read: N commits.
  expect(used).toBeLessThan(N / 4);
  const replies = sender.messages.filter((m) => m.ref !== undefined);
  expect(replies.map((m) => m.ref)).toEqual([...Array.from({ length: N }, (_, i) => i + 1), 'p']);
  expect(replies.slice(0, N).every((m) => m.type === 'ok')).toBe(true);
  // Every acknowledged message was committed before its `ok` was sent.
  const onDisk = committedIds();
  expect(replies.slice(0, N).filter((m) => !onDisk.has(m.id as string))).toEqual([]);
  // The sender's own messages came before their acknowledgements, each in its place.
  const own = sender.messages.filter(
    (m) => (m.type === 'message' && m.from === 'sender') || m.type === 'ok',
  );
  expect(own.map((m) => m.type)).toEqual(Array.from({ length: N }, () => ['message', 'ok']).flat());
  // Others see them in the order they were said.
  await reader.expect((m) => m.type === 'message' && m.text === `m${N}`);
  expect(reader.messages.filter((m) => m.type === 'message').map((m) => m.text)).toEqual(
    Array.from({ length: N }, (_, i) => `m${i + 1}`),
  );
  process.stdout.write(`framed: ${N} says acknowledged after ${used} commits\n`);
});

test(`IRC: the PONG after ${N} pipelined PRIVMSGs follows their commit, a few commits for all`, async () => {
  const s = await start();
  const irc = await RawIrcClient.register(portOf(s, 'irc'), 'ircsender');
  closers.push(() => irc.close());
  irc.send('JOIN #lobby');
  await irc.expect(/ 366 ircsender #lobby /);
  const before = commits(s);
  const lines: string[] = [];
  for (let i = 1; i <= N; i++) lines.push(`PRIVMSG #lobby :i${i}`);
  lines.push('PING :after');
  irc.socket.write(lines.map((l) => `${l}\r\n`).join(''));
  await irc.expect(/^:\S+ PONG \S+ :?after$/, 20_000);
  const used = commits(s) - before;
  expect(used).toBeLessThan(N / 4);
  // What follows a message waits for its commit: at the PONG, all of them are on disk.
  const db = new Database(join(dataDir, 'plugboard.db'), { readonly: true });
  const n = db.prepare("SELECT count(*) AS n FROM messages WHERE text LIKE 'i%'").get() as {
    n: number;
  };
  db.close();
  expect(n.n).toBe(N);
});

test('an outage: requests behind an unanswered message are refused at once, answered in order', async () => {
  const s = await start();
  const store = s.hub.store as SqliteStore;
  const sender = await RawFramedClient.hello(portOf(s, 'framed'), 'sender');
  const bob = await LineClient.named(portOf(s, 'line'), 'bob');
  closers.push(
    () => sender.close(),
    () => bob.close(),
  );
  store.setMaxPages(1); // a real SQLITE_FULL once the file's free pages are used up
  const degraded = bob.expect(/The chat is degraded: messages cannot be saved/, 30_000);
  let down = false;
  void degraded.then(() => (down = true));
  // Each `ok` follows its commit; the first message whose commit fails stays unanswered
  // (retried until there is room), and the store is then known to be down.
  let first = 0;
  for (let i = 1; i <= 3000 && !down; i++) {
    sender.send({ type: 'say', room: '#lobby', text: `fill ${i} ${'x'.repeat(1000)}`, ref: i });
    await Promise.race([sender.expect((m) => m.ref === i, 30_000), degraded]);
    first = i;
  }
  await degraded;
  const acked = sender.messages.filter((m) => m.type === 'ok').length;
  expect(acked).toBeLessThan(first); // `first` is the one waiting for its commit

  const frames: Buffer[] = [];
  const during = [1, 2, 3, 4, 5].map((k) => first + k);
  for (const i of during) {
    frames.push(frame({ type: 'say', room: '#lobby', text: `during ${i}`, ref: i }));
  }
  // A request whose effect others see: it shows the server handled the ones before it.
  frames.push(frame({ type: 'nick', name: 'sender2', ref: 'nick' }));
  frames.push(frame({ type: 'ping', ref: 'p' }));
  sender.write(Buffer.concat(frames));
  await bob.expect(/\* sender is now known as sender2$/, 10_000);

  // Nothing the sender is told overtakes the answer to the unanswered message.
  const answered = sender.messages.filter((m) => m.ref !== undefined).length;
  expect(answered).toBe(first - 1);

  store.setMaxPages(1 << 30); // room again
  await sender.expect((m) => m.type === 'pong' && m.ref === 'p', 20_000);
  const replies = (sender.messages.filter((m) => m.ref !== undefined) as Msg[]).slice(first - 1);
  expect(replies.map((m) => [m.ref, m.type, m.code])).toEqual([
    [first, 'ok', undefined],
    ...during.map((i) => [i, 'error', 'store_unavailable']),
    ['nick', 'ok', undefined],
    ['p', 'pong', undefined],
  ]);
  // Acknowledged once committed, after the outage.
  expect(committedIds().has(replies[0]?.id as string)).toBe(true);
});
