/** The web client's pure parts: links, commands, name completion, reconnect delays. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { backoffDelay, BACKOFF_MAX_MS } from '../../web/src/backoff.js';
import { parseInput } from '../../web/src/commands.js';
import { NameCompleter } from '../../web/src/complete.js';
import { linkify, safeHref } from '../../web/src/linkify.js';

describe('linkify', () => {
  test('only http and https become links; punctuation stays outside', () => {
    expect(linkify('see https://example.com/a, then (http://x.org/b).')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a', href: 'https://example.com/a' },
      { kind: 'text', text: ', then (' },
      { kind: 'link', text: 'http://x.org/b', href: 'http://x.org/b' },
      { kind: 'text', text: ').' },
    ]);
    expect(linkify('https://en.wikipedia.org/wiki/Plug_(disambiguation)')[0]).toMatchObject({
      kind: 'link',
      text: 'https://en.wikipedia.org/wiki/Plug_(disambiguation)',
    });
    for (const bad of ['javascript:alert(1)', 'data:text/html,<b>x', 'vbscript:x', 'https://']) {
      expect(linkify(bad).every((s) => s.kind === 'text')).toBe(true);
    }
    expect(safeHref('JAVASCRIPT:alert(1)')).toBeNull();
    expect(safeHref('https://example.com/"><script>')).toBe(
      'https://example.com/%22%3E%3Cscript%3E',
    );
  });

  test('the segments always spell the original text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), fc.webUrl(), fc.string(), (a, url, b) => {
        const text = `${a} ${url} ${b}`;
        const segs = linkify(text);
        expect(segs.map((s) => s.text).join('')).toBe(text);
        for (const s of segs) if (s.kind === 'link') expect(s.href).toMatch(/^https?:\/\//);
      }),
    );
  });
});

describe('typed commands', () => {
  test('text, /me, /join, /part, /msg, /nick, //escape', () => {
    expect(parseInput('hello')).toEqual({ kind: 'say', text: 'hello' });
    expect(parseInput('   ')).toBeNull();
    expect(parseInput('//not a command')).toEqual({ kind: 'say', text: '/not a command' });
    expect(parseInput('/me waves')).toEqual({ kind: 'me', text: 'waves' });
    expect(parseInput('/join dev')).toEqual({ kind: 'join', room: '#dev' });
    expect(parseInput('/join #dev secret')).toEqual({ kind: 'join', room: '#dev', key: 'secret' });
    expect(parseInput('/part')).toEqual({ kind: 'part' });
    expect(parseInput('/part #dev bye now')).toEqual({
      kind: 'part',
      room: '#dev',
      reason: 'bye now',
    });
    expect(parseInput('/msg bob hi there')).toEqual({ kind: 'msg', to: 'bob', text: 'hi there' });
    expect(parseInput('/msg bob')).toEqual({ kind: 'query', to: 'bob' });
    expect(parseInput('/nick carol')).toEqual({ kind: 'nick', name: 'carol' });
    expect(parseInput('/topic')).toEqual({ kind: 'topic' });
    expect(parseInput('/topic new one')).toEqual({ kind: 'topic', topic: 'new one' });
    expect(parseInput('/frobnicate')).toMatchObject({ kind: 'error' });
    expect(parseInput('/me')).toMatchObject({ kind: 'error' });
  });
});

describe('Tab completion', () => {
  const names = ['alice', 'Albert', 'bob'];
  test('completes at line start with ": ", mid-line with a space, and cycles', () => {
    const c = new NameCompleter();
    const first = c.complete('al', 2, names);
    expect(first).toEqual({ value: 'Albert: ', caret: 8 });
    expect(c.complete(first?.value ?? '', first?.caret ?? 0, names)).toEqual({
      value: 'alice: ',
      caret: 7,
    });
    c.reset();
    expect(c.complete('hi b', 4, names)).toEqual({ value: 'hi bob ', caret: 7 });
    c.reset();
    expect(c.complete('hi zed', 6, names)).toBeNull();
  });
});

describe('reconnect backoff', () => {
  test('starts near half a second, doubles, caps at 30 s, with ±20 % jitter', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(1, () => 0.5)).toBe(1000);
    expect(backoffDelay(3, () => 0.5)).toBe(4000);
    expect(backoffDelay(20, () => 0.5)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(0, () => 0)).toBe(400);
    expect(backoffDelay(0, () => 0.999999)).toBeLessThanOrEqual(600);
  });
});
