import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LineSplitter, parse, serialize, type IrcMessage } from '../../src/protocols/irc/codec.js';
import { createIrcEncoder, variantOf } from '../../src/protocols/irc/encoder.js';
import { Session } from '../../src/core/session.js';
import type { ChatEvent } from '../../src/core/events.js';
import type { Connection } from '../../src/core/ports.js';

const token = fc.stringMatching(/^[A-Za-z0-9#&._\-[\]\\`^{|}]{1,12}$/);
const middle = fc.stringMatching(/^[^\s:\r\n\0][^\s\r\n\0]{0,10}$/);
const trailing = fc.stringMatching(/^[^\r\n\0]{0,40}$/);
const tagKey = fc.stringMatching(/^\+?[a-z][a-z0-9-]{0,8}$/);
const tagValue = fc.string({ maxLength: 12 }).filter((s) => !/[\0]/.test(s));

const message: fc.Arbitrary<IrcMessage> = fc.record({
  tags: fc.dictionary(tagKey, tagValue, { maxKeys: 3 }),
  source: fc.option(token, { nil: null }),
  command: fc.oneof(fc.stringMatching(/^[A-Z]{1,10}$/), fc.stringMatching(/^\d{3}$/)),
  params: fc
    .tuple(fc.array(middle, { maxLength: 5 }), fc.option(trailing, { nil: undefined }))
    .map(([mids, last]) => (last === undefined ? mids : [...mids, last])),
});

describe('IRC codec', () => {
  test('parses tags, source, command and a trailing parameter', () => {
    expect(
      parse('@time=2026-01-01T00:00:00.000Z;+x=a\\sb :nick!u@h PRIVMSG #chan :hello there'),
    ).toEqual({
      tags: { time: '2026-01-01T00:00:00.000Z', '+x': 'a b' },
      source: 'nick!u@h',
      command: 'PRIVMSG',
      params: ['#chan', 'hello there'],
    });
    expect(parse('')).toBeNull();
  });

  test('parse(serialize(m)) == m', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(parse(serialize(m))).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  test('arbitrary bytes never throw, split anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.nat(1500), (bytes, cut) => {
        const splitter = new LineSplitter();
        const buf = Buffer.from(bytes);
        const items = [...splitter.push(buf.subarray(0, cut)), ...splitter.push(buf.subarray(cut))];
        for (const item of items) if (item.kind === 'line') parse(item.line);
      }),
      { numRuns: 500 },
    );
  });

  test('lines over 512 bytes are reported, not parsed', () => {
    const splitter = new LineSplitter();
    const items = splitter.push(Buffer.from(`PRIVMSG #a :${'x'.repeat(600)}\r\nPING :ok\r\n`));
    expect(items.map((i) => i.kind)).toEqual(['toolong', 'line']);
  });
});

describe('IRC encoder variants', () => {
  const encoder = createIrcEncoder('irc.test');
  test("the channel-message fast path gives the full rules' answer", () => {
    fc.assert(
      fc.property(
        fc.record({
          caps: fc.integer({ min: 0, max: 0xffff }),
          registered: fc.boolean(),
          ownMessage: fc.boolean(),
          tagOnly: fc.option(fc.boolean(), { nil: undefined }),
          kind: fc.constantFrom('say' as const, 'me' as const, 'notice' as const),
        }),
        ({ caps, registered, ownMessage, tagOnly, kind }) => {
          const r = new Session('s1', null as unknown as Connection, encoder, '127.0.0.1', 0);
          r.name = 'amy';
          r.registered = registered;
          r.caps = caps;
          const event: ChatEvent = {
            type: 'message',
            id: '1',
            ts: 0,
            room: '#a',
            from: { name: 'ben', mask: 'ben!ben@h', account: null },
            text: 'hi',
            kind,
            origin: ownMessage ? 's1' : 's2',
            ...(tagOnly === undefined ? {} : { tagOnly }),
          };
          expect(encoder.variant(event, r)).toBe(variantOf(event, r));
        },
      ),
    );
  });
});
