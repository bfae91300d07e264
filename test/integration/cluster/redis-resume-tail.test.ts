/**
 * A resume on one node right after another node's messages that are not in the store yet.
 * Two nodes on one real redis-server share one SQLite file; node A writes its batches only
 * every 10 s (--store-batch-interval 10000), so for the first seconds of this test what
 * A's people say is in Redis (the room's stream) and nowhere in the store. A replay on
 * node B (the JSON `hello` with `since`, the line protocol's "you missed" and `/since`, the
 * history shown on joining) must still hold each of those messages, once, in order.
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { RawFramedClient, type Msg } from '../../helpers/framed-client.js';
import { LineClient } from '../../helpers/line-client.js';
import { REDIS_BACKENDS, type RedisBackend } from '../../helpers/redis-backends.js';
import { portOf, testConfig } from '../../helpers/server.js';

describe.each(REDIS_BACKENDS)('on $name', (kind) => {
  let redis: RedisBackend;
  let dir: string;
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    redis = await kind.start();
    dir = mkdtempSync(join(tmpdir(), 'plugboard-cluster-tail-'));
    const node = (extra: string[]) =>
      startServer(
        testConfig([
          ...['--bus', redis.url, '--framed-port', '0', '--flood-rate', '0'],
          ...['--store', 'sqlite', '--data-dir', dir, '--name-hold', '30'],
          ...extra,
        ]),
        silentLogger,
      );
    // B first: A's 10 s batch clock starts last, so the test runs inside its first interval.
    b = await node([]);
    a = await node(['--store-batch-interval', '10000']);
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.dispose();
  });

  /** How many of these texts the shared store holds now (read beside the servers). */
  function storedCount(texts: string[]): number {
    const db = new Database(join(dir, 'plugboard.db'), { readonly: true, fileMustExist: true });
    try {
      return texts.filter((t) => db.prepare('SELECT 1 FROM messages WHERE text = ?').get(t)).length;
    } finally {
      db.close();
    }
  }

  const texts = (messages: unknown) => (messages as Msg[]).map((m) => m.text);

  test('a replay on another node holds what was said there before the batch was written', async () => {
    const talker = await LineClient.named(portOf(a, 'line'), 'talker');
    const witness = await LineClient.named(portOf(a, 'line'), 'witness');

    // alice on B is B's only member of #lobby: leaving drops B's replica, so her resume
    // makes a fresh one (its join mark then comes from the store, which lacks the tail).
    const alice = await RawFramedClient.connect(portOf(b, 'framed'));
    alice.send({ type: 'hello', name: 'alice' });
    const { token } = await alice.expect((m) => m.type === 'welcome');
    talker.send('before');
    const seen = (await alice.expect((m) => m.type === 'message' && m.text === 'before'))
      .id as string;
    alice.close();
    await talker.expect(/^\* alice left/);

    // bob on B, with carol on B keeping B's replica: the line protocol's catch-up.
    const carol = await LineClient.named(portOf(b, 'line'), 'carol');
    const bob = await LineClient.named(portOf(b, 'line'), 'bob');
    talker.send('before bob left');
    await bob.expect(/<talker> before bob left$/);
    bob.close();
    await carol.expect(/^\* bob left/);

    const tail = ['tail 0', 'tail 1', 'tail 2'];
    for (const t of tail) talker.send(t);
    await witness.expect(/<talker> tail 2$/);
    await carol.expect(/<talker> tail 2$/);
    // The race made certain: none of them is in the store yet.
    expect(storedCount(['before', 'before bob left', ...tail])).toBe(0);

    const back = await RawFramedClient.connect(portOf(b, 'framed'));
    back.send({ type: 'hello', name: 'alice', token, since: { '#lobby': seen } });
    expect(await back.expect((m) => m.type === 'welcome')).toMatchObject({ resumed: true });
    const replay = await back.expect((m) => m.type === 'history');
    expect(replay.missed).toBe(4);
    expect(texts(replay.messages)).toEqual(['before bob left', ...tail]);
    // Live delivery takes over after the join: the tail is not delivered a second time.
    talker.send('after');
    await back.expect((m) => m.type === 'message' && m.text === 'after');
    expect(back.messages.filter((m) => m.type === 'message').map((m) => m.text)).toEqual(['after']);
    back.close();

    // The line protocol: announced on the way back, and /since shows each once.
    const bobBack = await LineClient.named(portOf(b, 'line'), 'bob');
    await bobBack.expect(/^\* You missed 4 messages in #lobby since .* \/since to read them$/);
    bobBack.send('/since');
    await bobBack.expect(/^\* 4 messages in #lobby since /);
    for (const t of [...tail, 'after']) await bobBack.expect(new RegExp(`<talker> ${t}$`));
    expect(bobBack.since()).not.toContainEqual(expect.stringMatching(/tail|after/));

    // A newcomer on B: the history shown on joining ends with the tail.
    const dave = await RawFramedClient.connect(portOf(b, 'framed'));
    dave.send({ type: 'hello', name: 'dave' });
    const shown = await dave.expect((m) => m.type === 'history');
    expect(texts(shown.messages)).toEqual(['before', 'before bob left', ...tail, 'after']);

    // Still true: A has not written its batch, so the replays above came from the stream.
    expect(storedCount(tail)).toBe(0);
    for (const c of [talker, witness, carol, bobBack, dave]) c.close();
  }, 30_000);
});
