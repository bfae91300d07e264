/** irc/quote.ts: whatever a client sent, a reply naming it parses with its shape intact. */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { parse, serialize } from '../../src/protocols/irc/codec.js';
import { isErrorNumeric, quoteParam } from '../../src/protocols/irc/quote.js';

const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('an error reply naming any parameters keeps its parameters and carries no control', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 4 }),
      (given) => {
        const last = given.length - 1;
        const params = ['nick', ...given.map((p, i) => quoteParam(p, i === last, 400))];
        const line = serialize({ tags: {}, source: 'server', command: '403', params });
        const back = parse(line);
        expect(back?.params).toEqual(params);
        expect(UNSAFE.test(line)).toBe(false);
      },
    ),
  );
});

test('the error numerics are the 4xx and 5xx ones', () => {
  expect(['401', '403', '432', '502'].every(isErrorNumeric)).toBe(true);
  expect(['001', '318', '366', 'NOTICE', '4000'].some(isErrorNumeric)).toBe(false);
});
