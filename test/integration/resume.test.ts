/**
 * Resume over real sockets (in process): a JSON client that drops and comes back with its
 * token gets exactly what it missed, once, in order, while others keep talking; a gap over
 * the limit is announced with its count; names are held for their person after a drop; a
 * telnet user is told what they missed and `/since` shows it.
 */
import { afterAll, afterEach, expect, test } from 'vitest';
import { RawFramedClient, type Msg } from '../helpers/framed-client.js';
import { LineClient } from '../helpers/line-client.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(extra: string[] = []): Promise<{ framed: number; line: number }> {
  server = await startTestServer([
    '--framed-port',
    '0',
    '--flood-rate',
    '0',
    '--history-ring',
    '5000',
    ...extra,
  ]);
  return { framed: portOf(server, 'framed'), line: portOf(server, 'line') };
}

/** Ids of the room messages `c` received, live or replayed, in the order they arrived. */
function idsOf(c: RawFramedClient, room = '#lobby'): string[] {
  const out: string[] = [];
  for (const m of c.messages) {
    if (m.type === 'message' && m.room === room) out.push(m.id as string);
    if (m.type === 'history' && m.room === room) {
      for (const e of m.messages as Msg[]) out.push(e.id as string);
    }
  }
  return out;
}

function byId(a: string, b: string): number {
  return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
}

async function say(c: RawFramedClient, text: string, ref: string): Promise<void> {
  c.send({ type: 'say', room: '#lobby', text, ref });
  await c.expect((m) => m.type === 'ok' && m.ref === ref);
}

/** Every message id the room has, oldest first (asked by a member). */
async function allIds(c: RawFramedClient): Promise<string[]> {
  c.send({ type: 'history', room: '#lobby', limit: 500, ref: 'all' });
  const h = await c.expect((m) => m.type === 'history' && m.ref === 'all');
  return (h.messages as Msg[]).map((e) => e.id as string);
}

let pg: TestPostgres | null = null;
afterAll(() => pg?.stop());

test.each([['sqlite'], ['postgres']])(
  '%s: a JSON client back with its token gets every missed message once, in order, while others talk',
  async (store) => {
    // PostgreSQL's reads are real waits: messages keep arriving while the replay is read.
    if (store === 'postgres') pg ??= await startPostgres();
    const { framed } = await start([
      '--store',
      store === 'postgres' ? (pg as TestPostgres).url : 'sqlite',
    ]);
    const talker = await RawFramedClient.hello(framed, 'talker');
    const alice = await RawFramedClient.connect(framed);
    alice.send({ type: 'hello', name: 'alice', ref: 'h' });
    const welcome = await alice.expect((m) => m.type === 'welcome');
    expect(typeof welcome.token).toBe('string');
    expect(welcome.resumed).toBeUndefined();
    for (let i = 0; i < 5; i++) await say(talker, `before ${i}`, `b${i}`);
    await alice.expect((m) => m.type === 'message' && m.text === 'before 4');
    const seenBefore = idsOf(alice);
    expect(seenBefore).toHaveLength(5);

    // The network drops: the server notices, the others carry on.
    alice.close();
    await talker.expect((m) => m.type === 'quit' && m.name === 'alice');
    for (let i = 0; i < 20; i++) await say(talker, `gap ${i}`, `g${i}`);

    // Someone keeps talking while alice comes back: nothing may be lost or doubled at the seam.
    let talking = true;
    const background = (async () => {
      // In batches that are not awaited one by one: many messages in flight at each moment.
      for (let i = 0; talking && i < 40; i++) {
        for (let j = 0; j < 5; j++)
          talker.send({ type: 'say', room: '#lobby', text: `during ${i}.${j}` });
        await say(talker, `during ${i}`, `d${i}`);
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    const back = await RawFramedClient.connect(framed);
    back.send({
      type: 'hello',
      name: 'alice',
      token: welcome.token,
      since: { '#lobby': seenBefore.at(-1) },
      ref: 'h2',
    });
    const again = await back.expect((m) => m.type === 'welcome');
    expect(again).toMatchObject({ name: 'alice', resumed: true });
    const replay = await back.expect((m) => m.type === 'history' && m.after !== undefined);
    expect(replay.after).toBe(seenBefore.at(-1));
    await new Promise((r) => setTimeout(r, 100));
    talking = false;
    await background;
    await say(talker, 'the end', 'end');
    await back.expect((m) => m.type === 'message' && m.text === 'the end');

    const received = [...seenBefore, ...idsOf(back)];
    const all = await allIds(talker);
    // Exactly the room's messages: none twice, none missing, and already in order.
    expect(new Set(received).size).toBe(received.length);
    expect(received).toEqual(all);
    expect([...received].sort(byId)).toEqual(received);
    const replayed = (replay.messages as Msg[]).map((e) => e.text);
    expect(replayed.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `gap ${i}`));
    expect(replay.missed).toBe(replayed.length);
    // The replay came before any live message on the new connection.
    const firstLive = back.messages.findIndex((m) => m.type === 'message');
    expect(firstLive === -1 || firstLive > back.messages.indexOf(replay)).toBe(true);
    talker.close();
    back.close();
  },
  60_000,
);

test('a gap larger than the limit: the newest messages, and how many were missed in all', async () => {
  const { framed } = await start(['--resume-limit', '5']);
  const talker = await RawFramedClient.hello(framed, 'talker');
  const bob = await RawFramedClient.hello(framed, 'bob');
  await say(talker, 'seen', 's');
  const seen = (await bob.expect((m) => m.type === 'message' && m.text === 'seen')).id as string;
  bob.close();
  await talker.expect((m) => m.type === 'quit' && m.name === 'bob');
  for (let i = 0; i < 12; i++) await say(talker, `missed ${i}`, `m${i}`);
  const back = await RawFramedClient.connect(framed);
  back.send({ type: 'hello', name: 'bob2', since: { '#lobby': seen } });
  const replay = await back.expect((m) => m.type === 'history');
  expect(replay).toMatchObject({ room: '#lobby', after: seen, missed: 12 });
  expect((replay.messages as Msg[]).map((e) => e.text)).toEqual([
    'missed 7',
    'missed 8',
    'missed 9',
    'missed 10',
    'missed 11',
  ]);
  expect(replay.truncated).toBeUndefined();

  // The same through a `resume` request, for a room the client is in.
  back.send({ type: 'resume', rooms: { '#lobby': seen, '#nowhere': seen }, ref: 'r' });
  const again = await back.expect((m) => m.type === 'history' && m.ref === undefined);
  expect(again).toMatchObject({ missed: 12 });
  // A room it may not read answers as `history` would (access.ts), and the rest goes on.
  expect(await back.expect((m) => m.type === 'error')).toMatchObject({ code: 'no_such_room' });
  await back.expect((m) => m.type === 'ok' && m.ref === 'r');
  talker.close();
  back.close();
});

test('names are held after a drop: back with the token or from the same address, nobody else', async () => {
  const { framed, line } = await start(['--name-hold', '30']);
  const witness = await LineClient.named(line, 'witness');
  const alice = await RawFramedClient.connect(framed);
  alice.send({ type: 'hello', name: 'alice' });
  const { token } = await alice.expect((m) => m.type === 'welcome');
  alice.close();
  await witness.expect(/^\* alice left/);

  // Someone elsewhere, without the token (or with a forged one), cannot take the name.
  const other = await RawFramedClient.connectFrom(framed, '127.0.0.2');
  other.send({ type: 'hello', name: 'alice', token: `${token as string}x`, ref: 1 });
  expect(await other.expect((m) => m.type === 'error')).toMatchObject({ code: 'name_in_use' });
  other.send({ type: 'hello', name: 'Alice', ref: 2 });
  expect(await other.expect((m) => m.type === 'error' && m.ref === 2)).toMatchObject({
    code: 'name_in_use',
  });
  // The token's bearer gets it back.
  other.send({ type: 'hello', name: 'alice', token, ref: 3 });
  expect(await other.expect((m) => m.type === 'welcome')).toMatchObject({
    name: 'alice',
    resumed: true,
  });
  other.close();
  await witness.expect(/^\* alice left/);

  // A telnet user: from another address the name is refused, from the same one it is theirs.
  const carol = await LineClient.named(line, 'carol');
  carol.close();
  await witness.expect(/^\* carol left/);
  const stranger = await LineClient.connectFrom(line, '127.0.0.2');
  await stranger.expect(/Choose a name: /);
  stranger.send('carol');
  await stranger.expect(/^! The name carol is already in use$/);
  const carolAgain = await LineClient.named(line, 'carol');
  carolAgain.close();
  stranger.close();

  // A quit gives the name up at once: anyone may take it.
  const dave = await LineClient.named(line, 'dave');
  dave.send('/quit bye');
  await witness.expect(/^\* dave left \(quit: bye\)$/);
  const newDave = await LineClient.connectFrom(line, '127.0.0.2');
  await newDave.expect(/Choose a name: /);
  newDave.send('dave');
  await newDave.expect(/^\* Welcome, dave!/);
  newDave.close();
  witness.close();
});

test('the token replaces its own session when the server has not noticed the drop yet', async () => {
  const { framed } = await start();
  const first = await RawFramedClient.connect(framed);
  first.send({ type: 'hello', name: 'erin' });
  const { token } = await first.expect((m) => m.type === 'welcome');
  // Still connected as far as the server knows: a second connection with the token wins.
  const second = await RawFramedClient.connect(framed);
  second.send({ type: 'hello', name: 'erin', token });
  expect(await second.expect((m) => m.type === 'welcome')).toMatchObject({ name: 'erin' });
  await first.waitClosed();
  // Without the token, a live name stays its holder's (even from the same address).
  const third = await RawFramedClient.connect(framed);
  third.send({ type: 'hello', name: 'erin' });
  expect(await third.expect((m) => m.type === 'error')).toMatchObject({ code: 'name_in_use' });
  second.close();
  third.close();
});

test('telnet: "You missed N messages … — /since to read them", and /since shows them', async () => {
  const { line } = await start();
  const talker = await LineClient.named(line, 'talker');
  let nina = await LineClient.named(line, 'nina');
  talker.send('before you left');
  await nina.expect(/<talker> before you left$/);
  nina.close();
  await talker.expect(/^\* nina left/);
  for (let i = 0; i < 42; i++) talker.send(`while away ${i}`);
  const witness = await LineClient.named(line, 'witness');
  witness.send('/history 1');
  await witness.expect(/<talker> while away 41$/);

  nina = await LineClient.named(line, 'nina');
  const missed = await nina.expect(/^\* You missed/);
  expect(missed).toMatch(
    /^\* You missed 42 messages in #lobby since \d\d:\d\d — \/since to read them$/,
  );
  nina.send('/since');
  await nina.expect(/^\* 42 messages in #lobby since \d\d:\d\d:$/);
  for (let i = 0; i < 42; i++) await nina.expect(new RegExp(`<talker> while away ${i}$`));
  // Messages after the return are live, not part of what was missed.
  talker.send('welcome back');
  await nina.expect(/<talker> welcome back$/);
  nina.send('/since');
  await nina.expect(/^\* 42 messages in #lobby since/);
  talker.close();
  nina.close();
  witness.close();
});
