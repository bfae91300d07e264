/**
 * UTF-8 through Debian's telnet (inetutils): kanji, kana with a voiced mark and an emoji
 * typed in telnet arrive intact in nc, and the same typed in nc arrive intact in telnet.
 * Without TELNET BINARY (RFC 856) both ways, telnet's NVT mode is 7-bit ASCII (RFC 854)
 * and these bytes do not survive.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { ServerProcess } from '../../helpers/process.js';
import { Tmux } from '../../helpers/tmux.js';
import {
  killServer,
  lineClient,
  onScreens,
  portOf,
  startChatServer,
  type Chatter,
} from './clients.js';

const TEXT = '本 ナ ダ 🎉';

describe('UTF-8 through telnet', () => {
  let server: ServerProcess | undefined;
  const tmux = new Tmux('telnet-utf8');
  let nc: Chatter;
  let telnet: Chatter;

  beforeAll(async () => {
    server = await startChatServer();
    const line = portOf(server, 'line');
    nc = await lineClient(tmux, 'nc', 'alice', line);
    telnet = await lineClient(tmux, 'telnet', 'bob', line);
  });
  afterAll(async () => {
    killServer(server);
    await tmux.close();
  });

  test('typed in telnet, shown intact in nc', { timeout: 60_000 }, async () => {
    await onScreens(tmux, async () => {
      await telnet.say(`${TEXT} from telnet`);
      await nc.pane.waitFor(nc.lineFrom('bob', `${TEXT} from telnet`));
    });
  });

  test('typed in nc, shown intact in telnet', { timeout: 60_000 }, async () => {
    await onScreens(tmux, async () => {
      await nc.say(`${TEXT} from nc`);
      await telnet.pane.waitFor(telnet.lineFrom('alice', `${TEXT} from nc`));
    });
  });
});
