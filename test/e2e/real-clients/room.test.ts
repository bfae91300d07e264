/**
 * nc, telnet, irssi, WeeChat and the terminal client in one room of a real
 * `plugboard serve`, each read off the client's own screen (issue 16).
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { ServerProcess } from '../../helpers/process.js';
import { Tmux } from '../../helpers/tmux.js';
import {
  irssiClient,
  killServer,
  lineClient,
  onScreens,
  portOf,
  startChatServer,
  terminalClient,
  weechatClient,
  type Chatter,
} from './clients.js';

/** Everyone in a room, one client of each kind. */
async function joinAll(tmux: Tmux, server: ServerProcess, names: string[]): Promise<Chatter[]> {
  const [nc, telnet, irssi, weechat, terminal] = names as [string, string, string, string, string];
  const line = portOf(server, 'line');
  const irc = portOf(server, 'irc');
  return Promise.all([
    lineClient(tmux, 'nc', nc, line),
    lineClient(tmux, 'telnet', telnet, line),
    irssiClient(tmux, irssi, irc),
    weechatClient(tmux, weechat, irc),
    terminalClient(tmux, terminal, portOf(server, 'framed')),
  ]);
}

const said = (c: Chatter): string => `hello from ${c.name} on ${c.kind}`;

describe('real clients in one room', () => {
  let server: ServerProcess | undefined;
  const tmux = new Tmux('room');
  let early: Chatter[] = [];

  beforeAll(async () => {
    server = await startChatServer();
  });
  afterAll(async () => {
    killServer(server);
    await tmux.close();
  });

  test('each client shows every other client’s lines', { timeout: 120_000 }, async () => {
    const s = server as ServerProcess;
    await onScreens(tmux, async () => {
      early = await joinAll(tmux, s, ['alice', 'bob', 'carol', 'dave', 'erin']);
      for (const c of early) await c.say(said(c));
      for (const viewer of early) {
        for (const speaker of early) {
          if (speaker !== viewer)
            await viewer.pane.waitFor(viewer.lineFrom(speaker.name, said(speaker)));
        }
      }
    });
  });
});
