/**
 * Issue 15, defect 2: wildcard masks from people (WHO, +b) must not freeze the event loop.
 * Before the linear matcher these masks became backtracking regular expressions.
 */
import { afterAll, beforeAll, test } from 'vitest';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { LineClient } from '../../helpers/line-client.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import type { RunningServer } from '../../../src/server.js';

let server: RunningServer;
let irc: number;
let line: number;

beforeAll(async () => {
  server = await startTestServer(['--irc-port', '0', '--flood-rate', '0']);
  irc = portOf(server, 'irc');
  line = portOf(server, 'line');
});
afterAll(() => server.close());

test('WHO with a star-heavy mask against a long realname answers and others keep chatting', async () => {
  const victim = await RawIrcClient.connect(irc);
  victim.send('NICK longreal');
  victim.send(`USER longreal 0 * :${'a'.repeat(90)}`);
  await victim.expect(/ 001 /);
  const attacker = await RawIrcClient.register(irc, 'whoer');
  const bystander = await LineClient.named(line, 'bystander');
  attacker.send(`WHO ${'*a'.repeat(40)}*z`);
  await attacker.expect(/ 315 whoer /);
  // The event loop is still free: a line user's message goes through.
  const listener = await LineClient.named(line, 'listener');
  bystander.send('still here');
  await listener.expect(/<bystander> still here/);
  for (const c of [victim, attacker]) c.socket.destroy();
  for (const c of [bystander, listener]) c.socket.destroy();
});

test('a stored ban with many stars does not freeze the room when a matching user speaks', async () => {
  const op = await RawIrcClient.register(irc, 'banop');
  op.send('JOIN #stars');
  await op.expect(/ 366 banop #stars /);
  op.send(`MODE #stars +b ${'*a'.repeat(60)}*z!*@*`);
  await op.expect(/MODE #stars \+b /);
  const speaker = await RawIrcClient.connect(irc);
  speaker.send(`NICK ${'a'.repeat(25)}`);
  speaker.send(`USER x 0 * :${'a'.repeat(90)}`);
  await speaker.expect(/ 001 /);
  speaker.send('JOIN #stars');
  await speaker.expect(/ 366 /);
  speaker.send('PRIVMSG #stars :hello');
  await op.expect(/PRIVMSG #stars :hello/);
  op.socket.destroy();
  speaker.socket.destroy();
});

test('a key that IRC would misread (a leading ":", a comma) is refused, not shown', async () => {
  const op = await RawIrcClient.register(irc, 'keyop');
  op.send('JOIN #keyed');
  await op.expect(/ 366 keyop #keyed /);
  op.send('MODE #keyed +k ::abc');
  await op.expect(/ 696 keyop #keyed k \* :Invalid key/);
  op.send('MODE #keyed +k a,b');
  await op.expect(/ 696 keyop #keyed k \* :Invalid key/);
  op.send('MODE #keyed +k fine');
  await op.expect(/MODE #keyed \+k fine$/);
  op.socket.destroy();
});
