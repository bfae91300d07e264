import { afterAll, beforeAll, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let port: number;
beforeAll(async () => {
  server = await startTestServer(['--flood-rate', '0', '--oper', 'root:hunter2']);
  port = portOf(server, 'line');
});
afterAll(() => server.close());

test('room operators kick, ban, tempban, unban, mute and op; others may not', async () => {
  const op = await LineClient.named(port, 'opal');
  const user = await LineClient.named(port, 'uma');
  const troll = await LineClient.named(port, 'troll');
  op.send('/join #mod');
  await op.expect(/you are its operator/);
  user.send('/join #mod');
  troll.send('/join #mod');
  await op.expect(/troll joined #mod/);

  troll.send('/kick #mod uma');
  await troll.expect(/^! You are not an operator of #mod$/);

  op.send('/mute #mod troll 10m');
  await troll.expect(/^\* troll was muted in #mod by opal for 10m$/);
  troll.send('spam');
  await troll.expect(/^! You are muted in #mod$/);
  op.send('/unmute #mod troll');
  await troll.expect(/unmuted/);
  troll.send('sorry');
  await user.expect(/<troll> sorry$/);

  op.send('/kick #mod troll calm down');
  await troll.expect(/^\* You were kicked from #mod by opal \(calm down\)$/);
  await user.expect(/^\* troll was kicked from #mod by opal \(calm down\)$/);

  op.send('/ban #mod troll enough');
  await op.expect(/^\* Banned troll!\*@\* from #mod$/);
  troll.send('/join #mod');
  await troll.expect(/^! You are banned from #mod$/);
  op.send('/unban #mod troll');
  await op.expect(/Unbanned troll/);
  troll.send('/join #mod');
  await troll.expect(/^\* You joined #mod/);

  op.send('/tempban #mod troll 1s bye');
  await troll.expect(/kicked from #mod by opal \(bye\)/);
  troll.send('/join #mod');
  await troll.expect(/^! You are banned from #mod$/);
  await new Promise((r) => setTimeout(r, 1100));
  troll.send('/join #mod');
  await troll.expect(/^\* You joined #mod/);
  op.send('/tempban #mod troll soon');
  await op.expect(/^! usage: \/tempban ROOM NAME DURATION/);

  op.send('/op #mod uma');
  await user.expect(/^\* opal made uma an operator of #mod$/);
  op.send('/topiclock #mod off');
  await user.expect(/opal unlocked the topic of #mod/);
  troll.send('/topic trolls rule');
  await user.expect(/^\* troll set the topic of #mod to: trolls rule$/);
  for (const c of [op, user, troll]) c.close();
});

test('server operators kick anywhere and kill', async () => {
  const boss = await LineClient.named(port, 'boss');
  const victim = await LineClient.named(port, 'victim');
  boss.send('/kill victim');
  await boss.expect(/^! Only server operators can do that$/);
  boss.send('/oper root wrong');
  await boss.expect(/^! Wrong operator name or password$/);
  boss.send('/oper root hunter2');
  await boss.expect(/^\* You are now a server operator$/);
  victim.send('/join #private');
  await victim.expect(/You joined #private/);
  boss.send('/kick #private victim out');
  await victim.expect(/kicked from #private by boss/);
  boss.send('/kill victim spamming');
  await victim.expect(/^\* Disconnected: Killed by boss: spamming$/);
  await victim.waitClosed();
  await boss.expect(/^\* victim left \(Killed by boss: spamming\)$/);
  boss.close();
});
