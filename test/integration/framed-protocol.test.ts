import { afterAll, beforeAll, expect, test } from 'vitest';
import { RawFramedClient } from '../helpers/framed-client.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let framed: number;
let line: number;
beforeAll(async () => {
  server = await startTestServer([
    '--framed-port',
    '0',
    '--flood-rate',
    '0',
    '--max-frame',
    '1024',
    '--history-on-join',
    '5',
  ]);
  framed = portOf(server, 'framed');
  line = portOf(server, 'line');
});
afterAll(() => server.close());

test('hello → welcome, joined with members, history; requests echo their ref', async () => {
  const c = await RawFramedClient.connect(framed);
  c.send({ type: 'hello', name: 'fiona', client: 'test', ref: 'h1' });
  const welcome = await c.expect((m) => m.type === 'welcome');
  expect(welcome).toMatchObject({
    name: 'fiona',
    address: '127.0.0.1',
    server: 'test.plugboard',
    ref: 'h1',
  });
  expect(welcome.rooms).toEqual([{ name: '#lobby', topic: '', members: 1 }]);
  const joined = await c.expect((m) => m.type === 'joined');
  expect(joined).toMatchObject({ room: '#lobby', name: 'fiona' });
  // No one is operator of the default room unless an administrator says so (issue 15).
  expect(joined.members).toEqual([{ name: 'fiona', op: false, voice: false, away: false }]);
  c.send({ type: 'ping', ref: 7 });
  expect(await c.expect((m) => m.type === 'pong')).toEqual({ type: 'pong', ref: 7 });
  c.send({ type: 'say', room: '#lobby', text: 'hi', ref: 'say-1' });
  // The echo of your own message comes first (fan-out is synchronous), then the ok.
  const echoed = await c.expect((m) => m.type === 'message');
  const ok = await c.expect((m) => m.type === 'ok');
  expect(ok.ref).toBe('say-1');
  expect(echoed).toMatchObject({
    id: ok.id,
    room: '#lobby',
    from: 'fiona',
    text: 'hi',
    kind: 'say',
  });
  expect(typeof echoed.ts).toBe('number');
  c.close();
});

test('a framed client and an nc line client see each other', async () => {
  const f = await RawFramedClient.hello(framed, 'frank');
  const l = await LineClient.named(line, 'larry');
  await f.expect((m) => m.type === 'joined' && m.name === 'larry');
  l.send('hello from telnet');
  await f.expect(
    (m) => m.type === 'message' && m.from === 'larry' && m.text === 'hello from telnet',
  );
  f.send({ type: 'say', room: '#lobby', text: 'hello from framed' });
  await l.expect(/<frank> hello from framed$/);
  f.send({ type: 'me', room: '#lobby', text: 'waves' });
  await l.expect(/\* frank waves$/);
  f.send({ type: 'dm', to: 'larry', text: 'psst' });
  await l.expect(/\*frank\* psst$/);
  l.send('/msg frank back at you');
  await f.expect((m) => m.type === 'dm' && m.from === 'larry' && m.text === 'back at you');
  l.send('/nick lars');
  await f.expect((m) => m.type === 'nick' && m.old === 'larry' && m.name === 'lars');
  l.send('/quit bye');
  await f.expect((m) => m.type === 'quit' && m.name === 'lars' && m.reason === 'quit: bye');
  f.close();
});

test('rooms, who, topic, history paging, part', async () => {
  const c = await RawFramedClient.hello(framed, 'gina');
  c.send({ type: 'join', room: '#paging', ref: 'j' });
  const joined = await c.expect((m) => m.type === 'joined' && m.ref === 'j');
  expect(joined.room).toBe('#paging');
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    c.send({ type: 'say', room: '#paging', text: `n${i}`, ref: `s${i}` });
    ids.push((await c.expect((m) => m.type === 'ok' && m.ref === `s${i}`)).id as string);
  }
  c.send({ type: 'history', room: '#paging', limit: 3, before: ids[5], ref: 'h' });
  const page = await c.expect((m) => m.type === 'history' && m.ref === 'h');
  expect((page.messages as { text: string }[]).map((m) => m.text)).toEqual(['n2', 'n3', 'n4']);
  c.send({ type: 'topic', room: '#paging', topic: 'paging things', ref: 't' });
  await c.expect((m) => m.type === 'topic' && m.topic === 'paging things');
  c.send({ type: 'rooms', ref: 'r' });
  const rooms = await c.expect((m) => m.type === 'rooms');
  expect(rooms.rooms).toContainEqual({ name: '#paging', topic: 'paging things', members: 1 });
  c.send({ type: 'who', room: '#paging', ref: 'w' });
  expect((await c.expect((m) => m.type === 'who')).members).toEqual([
    { name: 'gina', op: true, voice: false, away: false },
  ]);
  c.send({ type: 'part', room: '#paging', ref: 'p' });
  await c.expect((m) => m.type === 'left' && m.room === '#paging' && m.name === 'gina');
  c.close();
});

test('invalid JSON and invalid messages get error frames; the connection stays', async () => {
  const c = await RawFramedClient.connect(framed);
  c.write(Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('{nope')]));
  expect(await c.expect((m) => m.type === 'error')).toMatchObject({ code: 'invalid_json' });
  c.send({ type: 'say', room: '#lobby', ref: 'bad' });
  const err = await c.expect((m) => m.type === 'error');
  expect(err).toMatchObject({ code: 'invalid_message', ref: 'bad' });
  expect(err.message).toMatch(/text/);
  c.send({ type: 'teleport', ref: 3 });
  expect(await c.expect((m) => m.type === 'error')).toMatchObject({
    code: 'invalid_message',
    ref: 3,
  });
  c.send({ type: 'say', room: '#lobby', text: 'x', ref: 'early' });
  expect(await c.expect((m) => m.type === 'error')).toMatchObject({
    code: 'hello_first',
    ref: 'early',
  });
  c.send({ type: 'hello', name: '9bad' });
  expect(await c.expect((m) => m.type === 'error')).toMatchObject({ code: 'name_invalid' });
  c.send({ type: 'hello', name: 'ok_now' });
  await c.expect((m) => m.type === 'welcome');
  c.send({ type: 'join', room: '#no spaces', ref: 'j' });
  expect(await c.expect((m) => m.type === 'error')).toMatchObject({
    code: 'room_invalid',
    ref: 'j',
  });
  expect(c.closed).toBe(false);
  c.close();
});

test('an oversize frame gets an error and the connection is closed', async () => {
  const c = await RawFramedClient.hello(framed, 'bigmouth');
  const big = Buffer.alloc(4);
  big.writeUInt32BE(5000);
  c.write(big);
  const err = await c.expect((m) => m.type === 'error' && m.code === 'frame_too_large');
  expect(err.message).toMatch(/5000 bytes is over the 1024-byte limit/);
  await c.waitClosed();
});
