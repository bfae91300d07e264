/**
 * The history irssi and WeeChat are shown on joining, read off their screens (issue 16):
 * a 3,000-character line said in nc arrives in pieces within the IRC line limit, all of
 * it, as live delivery would have cut it, each piece marked with its original time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ServerProcess } from '../../helpers/process.js';
import { Tmux } from '../../helpers/tmux.js';
import {
  irssiClient,
  killServer,
  lineClient,
  onScreens,
  portOf,
  startChatServer,
  weechatClient,
  type Chatter,
} from './clients.js';

/** 600 numbered words, 2,999 characters: each word shows where its piece went. */
const WORDS = Array.from({ length: 600 }, (_, i) => `w${String(i).padStart(3, '0')}`);
const LONG = WORDS.join(' ');

/** The rows that start a replayed message from `from` (with its original time). */
function messageRows(c: Chatter, screen: string, from: string): string[] {
  const start = c.replayedFrom(from, 'w');
  return screen.split('\n').filter((row) => start.test(row));
}

describe('history replay in irssi and WeeChat', () => {
  let server: ServerProcess | undefined;
  const tmux = new Tmux('replay');
  let alice: Chatter;

  beforeAll(async () => {
    server = await startChatServer();
    alice = await lineClient(tmux, 'nc', 'alice', portOf(server, 'line'));
    await alice.say(LONG);
    await alice.say('/history 1');
    await alice.pane.waitFor('* Last 1 message in #lobby:');
  });
  afterAll(async () => {
    killServer(server);
    await tmux.close();
  });

  test(
    'a 3,000-character line from nc is replayed whole, in several lines',
    { timeout: 90_000 },
    async () => {
      const irc = portOf(server as ServerProcess, 'irc');
      await onScreens(tmux, async () => {
        const viewers = await Promise.all([
          irssiClient(tmux, 'bob', irc),
          weechatClient(tmux, 'carol', irc),
        ]);
        for (const c of viewers) {
          const screen = await c.pane.waitFor('w599');
          expect(screen).toMatch(c.replayHeading(1));
          // 512 bytes less the prefix leave room for about 90 words a line: 600 take 7,
          // each starting with the time it was said.
          expect(messageRows(c, screen, 'alice').length, c.kind).toBeGreaterThanOrEqual(6);
          for (const w of WORDS) expect(screen, `${c.kind} lost ${w}`).toContain(w);
        }
      });
    },
  );
});
