/**
 * Private history: kept between accounts for both, and between an account and a guest for
 * the account alone; read back with dm_history (paging, after a restart on SQLite), never
 * through room history, never by a guest nor by whoever has the guest's name later.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { RawFramedClient, type Msg } from '../../helpers/framed-client.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import type { RunningServer } from '../../../src/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'plugboard-dm-'));
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => {});
});

async function start(): Promise<number> {
  const server = await startTestServer([
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
  return portOf(server, 'framed');
}

/** Sends a request and waits for the reply or error that carries its ref. */
async function ask(c: RawFramedClient, req: Record<string, unknown>, ref: string): Promise<Msg> {
  c.send({ ...req, ref });
  return c.expect((m) => m.ref === ref && m.type !== 'message' && m.type !== 'dm');
}

test('kept for the identified, paged, refused to guests, back after a restart', async () => {
  let port = await start();
  const ann = await RawFramedClient.hello(port, 'ann');
  const ben = await RawFramedClient.hello(port, 'ben');
  const cat = await RawFramedClient.hello(port, 'cat');
  expect((await ask(ann, { type: 'register', password: 'ann-secret' }, 'r1')).type).toBe('ok');
  expect((await ask(ben, { type: 'register', password: 'ben-secret' }, 'r2')).type).toBe('ok');

  expect((await ask(ann, { type: 'dm', to: 'ben', text: 'one' }, 'd1')).type).toBe('ok');
  expect((await ask(ben, { type: 'dm', to: 'ann', text: 'two' }, 'd2')).type).toBe('ok');
  expect((await ask(ann, { type: 'dm', to: 'ben', text: 'three' }, 'd3')).type).toBe('ok');
  // A guest's message to an account is kept for the account.
  expect((await ask(cat, { type: 'dm', to: 'ann', text: 'from a guest' }, 'd4')).type).toBe('ok');

  const all = await ask(ann, { type: 'dm_history', with: 'ben' }, 'h1');
  expect(all.type).toBe('dm_history');
  expect(all.with).toBe('ben');
  const texts = (all.messages as Msg[]).map((m) => `${m.from}>${m.to}:${m.text}`);
  expect(texts).toEqual(['ann>ben:one', 'ben>ann:two', 'ann>ben:three']);

  // Paging backwards from the oldest shown.
  const newest = await ask(ben, { type: 'dm_history', with: 'ann', limit: 1 }, 'h2');
  const page = newest.messages as Msg[];
  expect(page.map((m) => m.text)).toEqual(['three']);
  const older = await ask(
    ben,
    { type: 'dm_history', with: 'ann', limit: 5, before: page[0]?.id },
    'h3',
  );
  expect((older.messages as Msg[]).map((m) => m.text)).toEqual(['one', 'two']);

  // A guest has no private history, and room history cannot reach a conversation.
  const refused = await ask(cat, { type: 'dm_history', with: 'ann' }, 'h4');
  expect(refused).toMatchObject({ type: 'error', code: 'not_identified' });
  const sneaky = await ask(cat, { type: 'history', room: '@ann ben' }, 'h5');
  expect(sneaky).toMatchObject({ type: 'error', code: 'room_invalid' });
  const guest = await ask(ann, { type: 'dm_history', with: 'cat' }, 'h6');
  expect((guest.messages as Msg[]).map((m) => `${m.from}>${m.to}:${m.text}`)).toEqual([
    'cat>ann:from a guest',
  ]);
  // Not part of ann's conversation with ben.
  expect((all.messages as Msg[]).some((m) => m.text === 'from a guest')).toBe(false);
  const nobody = await ask(ann, { type: 'dm_history', with: 'NickServ' }, 'h6b');
  expect(nobody).toMatchObject({ type: 'error', code: 'no_such_user' });

  for (const c of [ann, ben, cat]) c.close();
  await servers[0]?.close();

  // After a restart: identify again, and the conversation is there (ben is offline).
  port = await start();
  const back = await RawFramedClient.hello(port, 'ann');
  expect((await ask(back, { type: 'identify', password: 'ann-secret' }, 'i1')).type).toBe('ok');
  const again = await ask(back, { type: 'dm_history', with: 'ben' }, 'h7');
  expect((again.messages as Msg[]).map((m) => m.text)).toEqual(['one', 'two', 'three']);
  const gone = await ask(back, { type: 'dm_history', with: 'cat' }, 'h8');
  expect((gone.messages as Msg[]).map((m) => m.text)).toEqual(['from a guest']);
  // Someone else takes the guest's name and registers it: the guest's words are not theirs.
  const heir = await RawFramedClient.hello(port, 'cat');
  expect((await ask(heir, { type: 'register', password: 'cat-secret' }, 'r3')).type).toBe('ok');
  const theirs = await ask(heir, { type: 'dm_history', with: 'ann' }, 'h9');
  expect(theirs.messages).toEqual([]);
  back.close();
  heir.close();
});
