/**
 * MONITOR across a cluster: two nodes on one real redis-server. The watcher and the
 * watched person share no room (nothing but the watch carries the news), and are on
 * different nodes: sign-on, away, realname, rename and sign-off on one node reach the
 * watcher on the other; WHOIS there shows the new realname and the bot flag. A node killed
 * with SIGKILL: the survivor that cleans up after it tells the watchers its people are gone.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { RawFramedClient } from '../../helpers/framed-client.js';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { ircClient } from '../../helpers/irc-setup.js';
import { LineClient } from '../../helpers/line-client.js';
import { spawnServer } from '../../helpers/process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { portOf, testConfig } from '../../helpers/server.js';

let redis: TestRedis;
let a: RunningServer;
let b: RunningServer;

beforeAll(async () => {
  redis = await startRedis();
  const args = ['--bus', redis.url, '--irc-port', '0', '--framed-port', '0', '--flood-rate', '0'];
  a = await startServer(testConfig(args), silentLogger);
  b = await startServer(testConfig(args), silentLogger);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.dispose();
});

test('a watcher on one node hears of a person on the other coming, changing and going', async () => {
  const watcher = await ircClient(
    portOf(a, 'irc'),
    'watcher',
    'extended-monitor away-notify setname',
  );
  watcher.send('MONITOR + remote,renamed');
  await watcher.expect(/ 731 watcher :?remote,renamed$/);

  const remote = await ircClient(portOf(b, 'irc'), 'remote', 'setname');
  await watcher.expect(/ 730 watcher :?remote!~remote@127\.0\.0\.1$/);

  remote.send('AWAY :out to lunch');
  await remote.expect(/ 306 /);
  await watcher.expect(/^:remote!~remote@127\.0\.0\.1 AWAY :out to lunch$/);

  remote.send('SETNAME :Remote Person');
  await remote.expect(/ SETNAME :Remote Person$/);
  await watcher.expect(/^:remote!~remote@127\.0\.0\.1 SETNAME :Remote Person$/);
  // The other node's presence has the new realname too.
  watcher.send('WHOIS remote');
  await watcher.expect(/ 311 watcher remote ~remote 127\.0\.0\.1 \* :Remote Person$/);

  remote.send('NICK renamed');
  await remote.expect(/ NICK :?renamed$/);
  await watcher.expect(/ 731 watcher :?remote$/);
  await watcher.expect(/ 730 watcher :?renamed!~remote@127\.0\.0\.1$/);

  remote.send('QUIT :done');
  await remote.expect(/^ERROR /);
  remote.close();
  await watcher.expect(/ 731 watcher :?renamed$/);
  // The AWAY came once: by the watch alone (no shared room).
  expect(watcher.lines.filter((l) => / AWAY /.test(l))).toHaveLength(1);
  watcher.close();
});

test('MONITOR + answers 730 for someone online on the other node; a framed bot shows as one', async () => {
  const bot = await RawFramedClient.connect(portOf(b, 'framed'));
  bot.send({ type: 'hello', name: 'robot', bot: true });
  await bot.expect((m) => m.type === 'welcome');
  const viewer = await RawIrcClient.register(portOf(a, 'irc'), 'viewer');
  // The registration is written to Redis at the end of its turn: ask until it is there.
  let seen = false;
  for (let i = 0; i < 50 && !seen; i++) {
    viewer.send(`MONITOR + robot`);
    const got = await viewer.expect(/ 73[01] viewer :?robot/);
    seen = / 730 /.test(got);
    if (!seen) {
      viewer.send('MONITOR - robot');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  expect(seen).toBe(true);
  viewer.send('WHOIS robot');
  await viewer.expect(/ 335 viewer robot :/);
  bot.close();
  await viewer.expect(/ 731 viewer :?robot$/);
  viewer.close();
});

test(
  'a node killed with SIGKILL: watchers elsewhere get 731 for its people',
  { timeout: 60_000 },
  async () => {
    // A survivor with a short lease, so it cleans up after the lost node within seconds.
    const survivor = await startServer(
      testConfig(['--bus', redis.url, '--node-lease', '3', '--irc-port', '0', '--flood-rate', '0']),
      silentLogger,
    );
    const doomed = await spawnServer([
      '--bus',
      redis.url,
      '--node-lease',
      '3',
      '--store',
      'memory',
      '--line-port',
      '0',
      ...['--framed-port', '-1', '--irc-port', '-1', '--irc-tls-port', '-1'],
      ...['--line-tls-port', '-1', '--framed-tls-port', '-1', '--http-port', '-1'],
      ...['--udp-port', '-1'],
    ]);
    const watcher = await RawIrcClient.register(portOf(survivor, 'irc'), 'keeper');
    watcher.send('MONITOR + doomedone');
    await watcher.expect(/ 731 keeper :?doomedone$/);
    const goner = await LineClient.named(doomed.ports.line!.port, 'doomedone');
    await watcher.expect(/ 730 keeper :?doomedone!/);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // 3 s lease + a renewal round; the wait is long only so a loaded machine passes.
    await watcher.expect(/ 731 keeper :?doomedone$/, 30_000);
    goner.close();
    watcher.close();
    await survivor.close();
  },
);
