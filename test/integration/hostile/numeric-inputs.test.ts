/**
 * Issue 15, numbers from people: a JSON `history` with `before` at or past 2^63 reached the
 * store as an id no 64-bit column holds and came back as an internal error with a stack
 * trace in the log. Every numeric input is now checked where it enters: a bad one gets a
 * clean `invalid_message` (JSON) or usage line (line protocol), nothing is logged as an
 * error, and the connection goes on working. Run on the memory and the SQLite store.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Logger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { portOf, testConfig } from '../../helpers/server.js';
import { FramedPeer, IrcPeer, LinePeer, WsPeer } from './peers.js';

/** A logger that keeps what it is given, to show nothing was logged as an error. */
function recordingLogger(): Logger & { entries: { level: string; obj: object; msg?: string }[] } {
  const entries: { level: string; obj: object; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj, ...(msg !== undefined ? { msg } : {}) });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Error logs, and any log carrying an Error (a stack trace). */
function troubles(log: ReturnType<typeof recordingLogger>): unknown[] {
  return log.entries
    .filter((e) => e.level === 'error' || Object.values(e.obj).some((v) => v instanceof Error))
    .map((e) => ({ level: e.level, msg: e.msg, obj: String(Object.values(e.obj)) }));
}

const BAD_BEFORE: unknown[] = [
  '9223372036854775808', // 2^63
  '18446744073709551616', // 2^64
  '99999999999999999999',
  '9'.repeat(400),
  '-1',
  'abc',
  '1e5',
  '0x10',
  '',
  ' 5',
  '5 ',
  2 ** 63, // as a JSON number
  5,
  -1,
  null,
  true,
  {},
  ['1'],
];
const BAD_LIMIT: unknown[] = [
  -1,
  0,
  1e12,
  2 ** 53 + 1,
  1.5,
  '10',
  null,
  'all',
  [],
  Number.MAX_VALUE,
];

for (const store of ['memory', 'sqlite']) {
  describe(`with the ${store} store`, () => {
    let server: RunningServer;
    let log: ReturnType<typeof recordingLogger>;
    let framed: FramedPeer, ws: WsPeer;

    beforeAll(async () => {
      log = recordingLogger();
      server = await startServer(
        testConfig([
          '--framed-port',
          '0',
          '--http-port',
          '0',
          '--irc-port',
          '0',
          '--flood-rate',
          '0',
          '--store',
          store,
        ]),
        log,
      );
      framed = await FramedPeer.hello(portOf(server, 'framed'), 'numf');
      ws = await WsPeer.hello(portOf(server, 'http'), 'numw');
      for (const p of [framed, ws]) {
        expect(await p.request({ type: 'say', room: '#lobby', text: 'a message' })).toMatchObject({
          type: 'ok',
        });
      }
    });

    afterAll(async () => {
      framed?.close();
      ws?.close();
      await server?.close();
    });

    test.each(['framed', 'ws'])(
      'history and dm_history over %s: each bad before or limit is invalid_message, and the connection works on',
      async (which) => {
        const p = which === 'framed' ? framed : ws;
        const bad = [
          ...BAD_BEFORE.map((before) => ({ before })),
          ...BAD_LIMIT.map((limit) => ({ limit })),
        ];
        for (const fields of bad) {
          for (const type of ['history', 'dm_history']) {
            const target = type === 'history' ? { room: '#lobby' } : { with: 'numw' };
            const reply = await p.request({ type, ...target, ...fields });
            expect(reply, `${type} ${JSON.stringify(fields)}`).toMatchObject({
              type: 'error',
              code: 'invalid_message',
            });
            expect(String(reply.message)).not.toMatch(/\n\s+at /);
          }
        }
        // The largest id there can be is a valid (empty-handed) bound; the smallest too.
        for (const before of ['9223372036854775807', '0', '1']) {
          expect(await p.request({ type: 'history', room: '#lobby', before })).toMatchObject({
            type: 'history',
          });
        }
        expect(await p.request({ type: 'say', room: '#lobby', text: 'still here' })).toMatchObject({
          type: 'ok',
        });
        expect(p.closed).toBe(false);
        expect(troubles(log)).toEqual([]);
      },
    );

    test('line /history and IRC numbers: bad ones get their usage reply, nothing is logged', async () => {
      const l = await LinePeer.named(portOf(server, 'line'), 'numl');
      for (const n of [
        'abc',
        '-1',
        '0',
        '1001',
        '99999999999999999999',
        '1.5',
        'NaN',
        'Infinity',
      ]) {
        l.send(`/history ${n}`);
        await l.line(/^! usage: \/history \[N\] \(N between 1 and 1000\)$/);
      }
      l.send('/history 1000');
      await l.line(/^\* Last \d+ messages? in #lobby:$/);
      const i = await IrcPeer.register(portOf(server, 'irc'), 'numi');
      i.send('JOIN #num');
      await i.line(/ 366 numi #num /);
      for (const limit of ['99999999999', '-5', '1e3', '0x10']) {
        i.send(`MODE #num +l ${limit}`);
        await i.line(/ 696 numi #num l /);
      }
      i.send(`WHOWAS numf ${'9'.repeat(30)}`);
      i.send('WHOWAS numf -3');
      await i.barrier();
      expect(troubles(log)).toEqual([]);
      l.close();
      i.close();
    });
  });
}
