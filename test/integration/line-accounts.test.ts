import { afterAll, beforeAll, expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let port: number;
beforeAll(async () => {
  server = await startTestServer(['--flood-rate', '0', '--name-grace', '1']);
  port = portOf(server, 'line');
});
afterAll(() => server.close());

test('register protects a name: others must identify or are renamed', async () => {
  const owner = await LineClient.named(port, 'keeper');
  owner.send('/register abc');
  await owner.expect(/^! A password needs at least 6 characters$/);
  owner.send('/register s3cret-pw');
  await owner.expect(/^\* keeper is now registered to you; next time, \/identify PASSWORD$/);
  owner.send('/register again-pw');
  await owner.expect(/^! You are already identified as keeper$/);
  owner.close();

  // Someone else takes the name and does not identify: renamed after the grace period.
  const squatter = await LineClient.named(port, 'keeper');
  await squatter.expect(
    /^\* The name keeper belongs to a registered account\. Identify within 1 seconds/,
  );
  await squatter.expect(/^\* You are now known as Guest\d+$/, 3000);
  await squatter.expect(/^\* You did not identify for keeper; you are now Guest\d+$/);
  squatter.close();

  // The owner comes back and identifies in time: keeps the name.
  const back = await LineClient.named(port, 'keeper');
  await back.expect(/belongs to a registered account/);
  back.send('/identify wrong-password');
  await back.expect(/^! Wrong account name or password$/);
  back.send('/identify s3cret-pw');
  await back.expect(/^\* You are now identified as keeper$/);
  await new Promise((r) => setTimeout(r, 1200));
  expect(back.lines.some((l) => /Guest/.test(l))).toBe(false);
  back.close();
});

test('login attempts are rate-limited per address', async () => {
  const a = await LineClient.named(port, 'brute');
  a.send('/register correct-horse');
  await a.expect(/is now registered/);
  const b = await LineClient.named(port, 'guesser');
  for (let i = 0; i < 7; i++) b.send(`/identify brute guess${i}`);
  await b.expect(/^! Too many login attempts: wait a minute and try again$/);
  // Even the right password is refused while throttled.
  b.send('/identify brute correct-horse');
  await b.expect(/^! Too many login attempts/);
  a.close();
  b.close();
});
