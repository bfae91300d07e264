import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  newResumeSecret,
  ResumeTokens,
  type ResumeClaims,
} from '../../../src/core/resume-token.js';

const claims: ResumeClaims = {
  name: 'alice',
  session: 'nabc12345.1f',
  issuedAt: 1_767_000_000_000,
  rooms: { '#lobby': '1767000000000000000', '#日本': '1767000000001000000' },
};

describe('resume tokens', () => {
  const tokens = new ResumeTokens(newResumeSecret());

  test('a token made here verifies, with every claim intact', () => {
    const t = tokens.issue(claims);
    expect(t).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(tokens.verify(t)).toEqual(claims);
  });

  test('another secret, an edited payload or mac, another version: refused', () => {
    const t = tokens.issue(claims);
    expect(new ResumeTokens(newResumeSecret()).verify(t)).toBeNull();
    const [v, body, mac] = t.split('.') as [string, string, string];
    // The payload says another session (someone else's name hold): the mac no longer fits.
    const forged = Buffer.from(
      JSON.stringify({ n: 'alice', s: 'nother.1', t: 1, r: {} }),
      'utf8',
    ).toString('base64url');
    expect(tokens.verify(`${v}.${forged}.${mac}`)).toBeNull();
    expect(tokens.verify(`v2.${body}.${mac}`)).toBeNull();
    // The first character: all six of its bits are the mac's (the last one's low bits are
    // padding, so swapping it for 'A' left the bytes alone about 1 time in 16).
    const edited = `${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`;
    expect(tokens.verify(`${v}.${body}.${edited}`)).toBeNull();
    expect(tokens.verify(`${v}.${body}.${mac}=`)).toBeNull();
    expect(tokens.verify(`${t}.`)).toBeNull();
    expect(tokens.verify(undefined)).toBeNull();
    expect(tokens.verify(42)).toBeNull();
  });

  test('a signed payload of the wrong shape is refused all the same', () => {
    // What a bug or an older version might have signed: the decoder checks the shape.
    const secret = newResumeSecret();
    const mine = new ResumeTokens(secret);
    const sign = (payload: unknown): string => {
      const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
      const mac = createHmac('sha256', Buffer.from(secret, 'utf8'))
        .update(`v1.${body}`)
        .digest('base64url');
      return `v1.${body}.${mac}`;
    };
    expect(mine.verify(sign({ n: 'a', s: 'x', t: 1, r: {} }))).toEqual({
      name: 'a',
      session: 'x',
      issuedAt: 1,
      rooms: {},
    });
    expect(mine.verify(sign({ n: 1, s: 'x', t: 1, r: {} }))).toBeNull();
    expect(mine.verify(sign({ n: 'a', s: 'x', t: 1, r: [] }))).toBeNull();
    expect(mine.verify(sign({ n: 'a', s: 'x', t: 1, r: { '#a': 'abc' } }))).toBeNull();
    expect(
      mine.verify(sign({ n: 'a', s: 'x', t: 1, r: { '#a': '9223372036854775808' } })),
    ).toBeNull();
    expect(mine.verify(sign({ n: 'a', s: 'x', t: 1, r: { __proto__x: '1' } }))).toBeNull();
    expect(mine.verify(sign(null))).toBeNull();
    expect(mine.verify(sign('text'))).toBeNull();
  });

  test('property: arbitrary strings never throw and never verify', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        expect(tokens.verify(s)).toBeNull();
      }),
      { numRuns: 2000 },
    );
    // Strings shaped like tokens: three base64url-ish parts behind a real version.
    const part = fc.stringMatching(/^[A-Za-z0-9_=+/.-]{0,80}$/);
    fc.assert(
      fc.property(part, part, (a, b) => {
        expect(tokens.verify(`v1.${a}.${b}`)).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  test('property: changing any one character of a real token makes it invalid', () => {
    const t = tokens.issue(claims);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat({ max: t.length - 1 }), fc.constantFrom(...alphabet.split('')), (i, c) => {
        fc.pre(t[i] !== c);
        const changed = t.slice(0, i) + c + t.slice(i + 1);
        expect(tokens.verify(changed)).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  test('property: any claims round-trip', () => {
    const room = fc.string({ minLength: 1, maxLength: 49 }).map((s) => `#${s}`);
    const id = fc.bigInt({ min: 0n, max: 9223372036854775807n }).map(String);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 40 }),
        fc.nat(),
        fc.dictionary(room, id, { maxKeys: 5 }),
        (name, session, issuedAt, rooms) => {
          const c = { name, session, issuedAt, rooms: { ...rooms } };
          expect(tokens.verify(tokens.issue(c))).toEqual(c);
        },
      ),
      { numRuns: 500 },
    );
  });
});
