/**
 * A channel renamed from irssi (`/quote RENAME`) while an nc user and a WeeChat user are
 * in it, each read off its own screen in tmux: neither irssi 1.4 nor WeeChat 3.8 asks for
 * draft/channel-rename, so both get the spec's fallback and are in the new channel with
 * its names; nc sees the rename line and goes on talking in the renamed room.
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
  weechatClient,
} from './clients.js';

describe('a rename seen in real clients', () => {
  let server: ServerProcess | undefined;
  const tmux = new Tmux('rename');

  beforeAll(async () => {
    server = await startChatServer();
  });
  afterAll(async () => {
    killServer(server);
    await tmux.close();
  });

  test('irssi renames; nc and WeeChat follow', { timeout: 120_000 }, async () => {
    const s = server as ServerProcess;
    await onScreens(tmux, async () => {
      const irssi = await irssiClient(tmux, 'rita', portOf(s, 'irc'));
      await irssi.say('/join #typo');
      await irssi.pane.waitFor(/rita \S* has joined #typo/);
      const nc = await lineClient(tmux, 'nc', 'nico', portOf(s, 'line'));
      await nc.say('/join #typo');
      await nc.pane.waitFor(/You joined #typo/);
      const weechat = await weechatClient(tmux, 'wendy', portOf(s, 'irc'));
      await weechat.say('/join #typo');
      await weechat.pane.waitFor(/wendy .* has joined #typo/);
      await nc.say('said in the old name');
      await irssi.pane.waitFor(irssi.lineFrom('nico', 'said in the old name'));
      await irssi.say('/quote RENAME #typo #topic :fixing the typo');
      await nc.pane.waitFor('* #typo is now #topic (renamed by rita: fixing the typo)');
      // irssi: the fallback (its own part closes the #typo window), then the join of
      // #topic, in a window of its own, with the new channel's names.
      await irssi.say('/window goto #topic');
      await irssi.pane.waitFor(/rita \S* has joined #topic/);
      await irssi.pane.waitFor(/#topic: Total of 3 nicks \[1 ops/);
      // nc's current room followed: a plain line goes to #topic.
      await nc.say('said in the new name');
      await irssi.pane.waitFor(irssi.lineFrom('nico', 'said in the new name'));
      await weechat.pane.waitFor(/#topic/);
    });
  });
});
