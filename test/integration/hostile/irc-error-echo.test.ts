/**
 * Issue 15: an IRC error reply names what its sender gave (RFC 2812 5.2: `403 <channel>
 * :No such channel`), and names it through the one cleaning rule: the sender's own
 * control characters, escape sequences and bidi controls do not come back to its terminal,
 * and a parameter stays one parameter. Over a raw socket, judged like every other line.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { ATTACK_SERVER_FLAGS, IrcPeer, offset, problems } from './peers.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer([...ATTACK_SERVER_FLAGS]);
});
afterAll(() => server?.close());

const HOSTILE = '\x1b[6n\u202eevil\x07\x85\u2066\x00';

test('error replies quote what the sender gave through the cleaning rule', async () => {
  const p = await IrcPeer.register(portOf(server, 'irc'), 'echoer');
  const from = offset(p);
  p.send(`JOIN #own`); // its operator
  p.send(`JOIN #x${HOSTILE}`);
  p.send(`PART #nosuch${HOSTILE}`);
  p.send(`TOPIC #nosuch${HOSTILE}`);
  p.send(`MODE #nosuch${HOSTILE} +b`);
  p.send(`PRIVMSG nobody${HOSTILE} :hi`);
  p.send(`WHOIS ghost${HOSTILE}`);
  p.send(`NICK bad${HOSTILE}`);
  p.send(`KICK #own \x01\x02 :why`); // a middle parameter that cleaning empties
  p.send(`FOO${HOSTILE}`);
  await p.barrier();
  const lines = p.raw.slice(from).split('\r\n');
  // Each of them answered with its error, naming the cleaned parameter.
  expect(lines.some((l) => / 403 echoer #x\[6nevil :No such channel$/.test(l))).toBe(true);
  expect(lines.some((l) => / 401 echoer nobody\[6nevil :No such nick\/channel$/.test(l))).toBe(
    true,
  );
  expect(lines.some((l) => / 432 echoer bad\[6nevil :Erroneous nickname$/.test(l))).toBe(true);
  expect(lines.some((l) => / 421 echoer FOO\[6nevil :Unknown command$/.test(l))).toBe(true);
  // Emptied by cleaning, it is named `*`: the reply keeps its shape.
  expect(lines.some((l) => / 4\d\d echoer \* (\S+ )?:/.test(l))).toBe(true);
  expect(problems(p, from)).toEqual([]);
  p.close();
});
