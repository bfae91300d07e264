/**
 * Read markers shared across protocols (core/read-markers.ts): an account's marker set by
 * IRC MARKREAD (draft/read-marker) is what the JSON protocol sees, and one set by JSON
 * `markread` reaches the account's IRC connections as MARKREAD; markers only move
 * forward, come with a JOIN, and outlive a restart (SQLite). Guests keep theirs with the
 * connection.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { RawFramedClient, type Msg } from '../helpers/framed-client.js';
import type { RawIrcClient } from '../helpers/irc-client.js';
import { ask as askIrc, ircClient, untag } from '../helpers/irc-setup.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';
import { markerAt } from '../../src/core/read-markers.js';

const dataDir = mkdtempSync(join(tmpdir(), 'plugboard-markers-'));
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => {});
});

async function start(): Promise<{ irc: number; framed: number }> {
  const server = await startTestServer([
    '--irc-port',
    '0',
    '--framed-port',
    '0',
    '--flood-rate',
    '0',
    '--store',
    'sqlite',
    '--data-dir',
    dataDir,
  ]);
  servers.push(server);
  return { irc: portOf(server, 'irc'), framed: portOf(server, 'framed') };
}

let n = 0;
const unique = (base: string) => `${base}${(++n).toString(36)}${Date.now().toString(36).slice(-3)}`;

/** Logs in with SASL PLAIN as `account` (the nick may differ). */
const saslClient = (port: number, nick: string, account: string) =>
  ircClient(port, nick, 'sasl draft/read-marker', { sasl: { account, password: PASSWORD } });

/** The answer to `line`, without tags. */
const ask = async (c: RawIrcClient, line: string) => (await askIrc(c, line, 5000)).map(untag);

async function request(c: RawFramedClient, req: Record<string, unknown>): Promise<Msg> {
  const ref = `r${++n}`;
  c.send({ ...req, ref });
  return c.expect((m) => m.ref === ref);
}

const PASSWORD = 'marker-secret';
const T1 = '2026-03-01T10:00:00.123Z';
const T1_ID = markerAt(Date.parse(T1));

test('IRC MARKREAD and JSON markread move one marker, seen by every connection of the account', async () => {
  const { irc, framed } = await start();
  const account = unique('mk');
  const room = `#${unique('read')}`;
  // The account, made over IRC; its connections: IRC (x2, one with another nick) and JSON.
  const first = await ircClient(irc, account, 'draft/read-marker');
  first.send('PRIVMSG NickServ :REGISTER ' + PASSWORD);
  await first.expect(/ is now registered to you/);
  const second = await saslClient(irc, unique('mk2'), account);
  const web = await RawFramedClient.hello(framed, unique('mkw'));
  expect(await request(web, { type: 'identify', password: PASSWORD, name: account })).toMatchObject(
    { type: 'ok' },
  );

  // JOIN tells the marker before the end of NAMES: none yet.
  const joined = await ask(first, `JOIN ${room}`);
  const at = joined.findIndex((l) => l.includes(' MARKREAD '));
  expect(joined[at]).toMatch(new RegExp(`^:\\S+ MARKREAD ${room} \\*$`));
  expect(at).toBeLessThan(joined.findIndex((l) => / 366 /.test(l)));
  await ask(second, `JOIN ${room}`);
  expect(await request(web, { type: 'join', room })).not.toHaveProperty('marker');

  // IRC sets it: both IRC connections hear MARKREAD, the JSON one a marker event.
  const set = await ask(first, `MARKREAD ${room} timestamp=${T1}`);
  expect(set).toEqual([
    expect.stringMatching(new RegExp(`^:\\S+ MARKREAD ${room} timestamp=${T1}$`)),
  ]);
  await second.expect(new RegExp(` MARKREAD ${room} timestamp=${T1}$`));
  expect(await web.expect((m) => m.type === 'marker')).toEqual({ type: 'marker', room, id: T1_ID });
  expect(await request(web, { type: 'markers' })).toMatchObject({
    type: 'markers',
    markers: [{ room, id: T1_ID }],
  });

  // JSON sets a later one (a message id): IRC hears it as that message's time.
  const later = String(BigInt(Date.parse('2026-03-02T08:30:00.500Z')) * 1_000_000n + 7000n);
  expect(await request(web, { type: 'markread', room, id: later })).toMatchObject({
    type: 'marker',
    room,
    id: later,
  });
  for (const c of [first, second]) {
    await c.expect(new RegExp(` MARKREAD ${room} timestamp=2026-03-02T08:30:00\\.500Z$`));
  }

  // Backwards from either side: refused quietly, the later marker is the answer.
  expect(await request(web, { type: 'markread', room, id: T1_ID })).toMatchObject({ id: later });
  expect(await ask(first, `MARKREAD ${room} timestamp=${T1}`)).toEqual([
    expect.stringMatching(/ MARKREAD \S+ timestamp=2026-03-02T08:30:00\.500Z$/),
  ]);
  expect(await ask(second, `MARKREAD ${room}`)).toEqual([
    expect.stringMatching(/ MARKREAD \S+ timestamp=2026-03-02T08:30:00\.500Z$/),
  ]);
  // Nothing moved, so no one else was told: the JOIN's, two changes, its own question.
  expect(second.lines.filter((l) => l.includes(' MARKREAD ')).length).toBe(4);

  // Bad input: FAILs, and the connection stays.
  expect(await ask(first, 'MARKREAD')).toEqual([
    expect.stringMatching(/^:\S+ FAIL MARKREAD NEED_MORE_PARAMS :/),
  ]);
  expect(await ask(first, `MARKREAD ${room} *`)).toEqual([
    expect.stringMatching(new RegExp(`^:\\S+ FAIL MARKREAD INVALID_PARAMS ${room} :`)),
  ]);
  expect(await ask(first, `MARKREAD #${unique('notin')} timestamp=${T1}`)).toEqual([
    expect.stringMatching(/^:\S+ FAIL MARKREAD INVALID_TARGET \S+ :/),
  ]);
  expect(await request(web, { type: 'markread', room, id: 'abc' })).toMatchObject({
    type: 'error',
  });
  for (const c of [first, second]) c.close();
  web.close();
  await servers.pop()?.close();

  // After a restart: the marker is in the store, with the JSON join and on IRC JOIN.
  const back = await start();
  const again = await RawFramedClient.hello(back.framed, unique('mkb'));
  await request(again, { type: 'identify', password: PASSWORD, name: account });
  expect(await request(again, { type: 'join', room })).toMatchObject({
    type: 'joined',
    marker: later,
  });
  const irc2 = await saslClient(back.irc, unique('mk3'), account);
  expect((await ask(irc2, `JOIN ${room}`)).filter((l) => l.includes('MARKREAD'))).toEqual([
    expect.stringMatching(new RegExp(` MARKREAD ${room} timestamp=2026-03-02T08:30:00\\.500Z$`)),
  ]);
  irc2.close();
  again.close();
});

test("a guest's markers live with its connection, and reach no one else", async () => {
  const { irc } = await start();
  const guest = unique('gst');
  const peer = unique('peer');
  const room = `#${unique('g')}`;
  const a = await ircClient(irc, guest, 'draft/read-marker');
  const b = await ircClient(irc, peer, 'draft/read-marker');
  await ask(a, `JOIN ${room}`);
  await ask(b, `JOIN ${room}`);
  expect(await ask(a, `MARKREAD ${room} timestamp=${T1}`)).toEqual([
    expect.stringMatching(new RegExp(` MARKREAD ${room} timestamp=${T1}$`)),
  ]);
  // A private conversation's marker, under the other person's name.
  expect(await ask(a, `MARKREAD ${peer} timestamp=${T1}`)).toEqual([
    expect.stringMatching(new RegExp(` MARKREAD ${peer} timestamp=${T1}$`)),
  ]);
  expect(await ask(b, `MARKREAD ${room}`)).toEqual([
    expect.stringMatching(new RegExp(` MARKREAD ${room} \\*$`)),
  ]);
  a.close();
  const again = await ircClient(irc, guest, 'draft/read-marker');
  expect(await ask(again, `MARKREAD ${room}`)).toEqual([
    expect.stringMatching(new RegExp(` MARKREAD ${room} \\*$`)),
  ]);
  for (const c of [again, b]) c.close();
  await servers.pop()?.close();
});

test('an identified account marks read its conversation with a guest who has left', async () => {
  const { irc } = await start();
  const account = unique('acct');
  const guest = unique('gone');
  const stranger = unique('never');
  const me = await ircClient(irc, account, 'draft/read-marker');
  me.send('PRIVMSG NickServ :REGISTER ' + PASSWORD);
  await me.expect(/ is now registered to you/);
  const g = await ircClient(irc, guest, 'draft/read-marker');
  // Kept under the account (docs/protocol.md, "Private history"): one side is identified.
  await ask(me, `PRIVMSG ${guest} :are you there?`);
  await g.expect(/ PRIVMSG \S+ :are you there\?$/);
  g.send('QUIT :bye');
  await g.expect(/^ERROR /);
  // Gone, with no account: the conversation is still the account's, and so is its marker.
  expect(await ask(me, `WHOIS ${guest}`)).toContainEqual(expect.stringMatching(/ 401 /));
  expect(await ask(me, `MARKREAD ${guest} timestamp=${T1}`)).toEqual([
    expect.stringMatching(new RegExp(` MARKREAD ${guest} timestamp=${T1}$`)),
  ]);
  expect(await ask(me, `MARKREAD ${guest}`)).toEqual([
    expect.stringMatching(new RegExp(` MARKREAD ${guest} timestamp=${T1}$`)),
  ]);
  // A name nobody has and the account never talked with is no target.
  expect(await ask(me, `MARKREAD ${stranger} timestamp=${T1}`)).toEqual([
    expect.stringMatching(new RegExp(`^:\\S+ FAIL MARKREAD INVALID_TARGET ${stranger} :`)),
  ]);
  // A guest keeps no private history: a gone guest is no target for another guest.
  const other = await ircClient(irc, unique('gst'), 'draft/read-marker');
  expect(await ask(other, `MARKREAD ${guest} timestamp=${T1}`)).toEqual([
    expect.stringMatching(new RegExp(`^:\\S+ FAIL MARKREAD INVALID_TARGET ${guest} :`)),
  ]);
  for (const c of [me, other]) c.close();
  await servers.pop()?.close();
});
