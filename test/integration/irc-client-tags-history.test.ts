/**
 * Client-only message tags in history, over real sockets: a PRIVMSG to a channel with
 * `+draft/reply` and other `+` tags reaches message-tags clients live, and after a restart
 * of the server (SQLite file, PostgreSQL) CHATHISTORY and the join replay give the same
 * tags back with the message; a client without message-tags sees none. (The memory store
 * keeps the entry as given: the store contract covers it.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ask, ircClient, tagsOf } from '../helpers/irc-setup.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(() => postgres?.stop());

let n = 0;
const unique = (base: string) => `${base}${(++n).toString(36)}${Date.now().toString(36).slice(-3)}`;
const CAPS = 'batch server-time message-tags echo-message draft/chathistory';

const client = (server: RunningServer, nick: string, caps: string) =>
  ircClient(portOf(server, 'irc'), nick, caps);

const CLIENT_TAGS = { '+draft/reply': 'ref1', '+example.com/note': 'a\\sb\\:c', '+typing': '' };
const TAG_SECTION = '@+draft/reply=ref1;+example.com/note=a\\sb\\:c;+typing';

function clientTags(l: string): Record<string, string> {
  return Object.fromEntries(Object.entries(tagsOf(l)).filter(([k]) => k.startsWith('+')));
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`client-only tags kept in ${backend}`, () => {
    test(
      'live, then after a restart in the join replay and CHATHISTORY (with event playback)',
      { timeout: 60_000 },
      async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'plugboard-tags-'));
        const args = [
          '--irc-port',
          '0',
          '--flood-rate',
          '0',
          '--data-dir',
          dataDir,
          '--store',
          backend === 'sqlite' ? 'sqlite' : postgres.url,
          '--history-on-join',
          '5',
        ];
        const room = `#${unique('t')}`;
        let server = await startTestServer(args);
        try {
          const alice = await client(server, unique('alice'), CAPS);
          const bob = await client(server, unique('bob'), CAPS);
          await ask(alice, `JOIN ${room}`);
          await ask(bob, `JOIN ${room}`);
          alice.send(`${TAG_SECTION} PRIVMSG ${room} :tagged reply`);
          alice.send(`PRIVMSG ${room} :untagged`);
          const live = await bob.expect(/ PRIVMSG \S+ :tagged reply$/);
          expect(clientTags(live)).toEqual(CLIENT_TAGS);
          await bob.expect(/ PRIVMSG \S+ :untagged$/);
          for (const c of [alice, bob]) c.close();
        } finally {
          await server.close();
        }

        // A new process on the same store: the tags can only come from what was written.
        server = await startTestServer(args);
        try {
          // The join replay (--history-on-join, for clients without draft/chathistory) shows
          // them; the room exists again once someone is in it.
          const erin = await client(server, unique('erin'), 'batch server-time message-tags');
          const joined = await ask(erin, `JOIN ${room}`);
          const replayed = joined.find((l) => l.endsWith(':tagged reply'));
          expect(replayed, joined.join('\n')).toBeDefined();
          expect(clientTags(replayed as string)).toEqual(CLIENT_TAGS);

          const carol = await client(server, unique('carol'), `${CAPS} draft/event-playback`);
          await ask(carol, `JOIN ${room}`);
          const page = await ask(carol, `CHATHISTORY LATEST ${room} * 10`);
          const tagged = page.find((l) => l.endsWith(':tagged reply'));
          expect(tagged, page.join('\n')).toBeDefined();
          expect(clientTags(tagged as string)).toEqual(CLIENT_TAGS);
          expect(tagsOf(tagged as string)).toHaveProperty('msgid');
          const untagged = page.find((l) => l.endsWith(':untagged')) as string;
          expect(clientTags(untagged)).toEqual({});

          // Without message-tags: no client tags.
          const dan = await client(server, unique('dan'), 'batch server-time draft/chathistory');
          await ask(dan, `JOIN ${room}`);
          const plain = await ask(dan, `CHATHISTORY LATEST ${room} * 10`);
          const bare = plain.find((l) => l.endsWith(':tagged reply'));
          expect(bare, plain.join('\n')).toBeDefined();
          expect(bare).not.toContain('+draft/reply');
          for (const c of [carol, dan, erin]) c.close();
        } finally {
          await server.close();
        }
      },
    );
  });
}
