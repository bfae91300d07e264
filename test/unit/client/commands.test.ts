import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { helpLines, parseInput, UsageError, wrapWords } from '../../../src/client/commands.js';
import { clean, formatEvent } from '../../../src/client/format.js';
import { Roster } from '../../../src/client/roster.js';

const ctx = { current: '#lobby', rooms: new Set(['#lobby', '#Dev']) };

describe('parseInput', () => {
  test('plain text goes to the current room; // escapes a leading slash', () => {
    expect(parseInput('/rename #Dev #dev2 a better name', ctx)).toEqual({
      kind: 'request',
      request: { type: 'rename', room: '#Dev', to: '#dev2', reason: 'a better name' },
    });
    expect(parseInput('hello  there', ctx)).toEqual({
      kind: 'request',
      request: { type: 'say', room: '#lobby', text: 'hello  there' },
    });
    expect(parseInput('//etc/passwd', ctx)).toMatchObject({
      request: { type: 'say', text: '/etc/passwd' },
    });
  });

  test('commands become requests with verbatim rest-of-line text', () => {
    expect(parseInput('/msg bob  two  spaces', ctx)).toMatchObject({
      request: { type: 'dm', to: 'bob', text: 'two  spaces' },
    });
    expect(parseInput('/me waves  slowly', ctx)).toMatchObject({
      request: { type: 'me', room: '#lobby', text: 'waves  slowly' },
    });
    expect(parseInput('/JOIN dev key1', ctx)).toMatchObject({
      request: { type: 'join', room: '#dev', key: 'key1' },
    });
    expect(parseInput('/part', ctx)).toMatchObject({
      request: { type: 'part', room: '#lobby', reason: '' },
    });
    expect(parseInput('/part #x gone for lunch', ctx)).toMatchObject({
      request: { type: 'part', room: '#x', reason: 'gone for lunch' },
    });
    expect(parseInput('/topic', ctx)).toEqual({
      kind: 'send',
      request: { type: 'topic', room: '#lobby' },
    });
    expect(parseInput('/topic new topic', ctx)).toMatchObject({
      request: { topic: 'new topic' },
    });
    expect(parseInput('/history', ctx)).toMatchObject({ request: { type: 'history', limit: 20 } });
    // /read: up to the newest message seen in the current room.
    expect(parseInput('/read', { ...ctx, lastSeen: () => '1796130144796000000' })).toMatchObject({
      request: { type: 'markread', room: '#lobby', id: '1796130144796000000' },
    });
    expect(() => parseInput('/read', { ...ctx, lastSeen: () => null })).toThrow(/Nothing to mark/);
    expect(parseInput('/history bob 5', ctx)).toMatchObject({
      request: { type: 'dm_history', with: 'bob', limit: 5 },
    });
    expect(parseInput('/away lunch', ctx)).toMatchObject({
      request: { type: 'away', text: 'lunch' },
      done: '* You are marked away: lunch',
    });
    expect(parseInput('/identify alice s3cret', ctx)).toMatchObject({
      request: { type: 'identify', name: 'alice', password: 's3cret' },
    });
    expect(parseInput('/quit', ctx)).toEqual({ kind: 'quit', reason: 'leaving' });
  });

  test('/switch only to a room we are in, with the server spelling', () => {
    expect(parseInput('/switch dev', ctx)).toEqual({ kind: 'switch', room: '#Dev' });
    expect(() => parseInput('/switch #nowhere', ctx)).toThrow(/not in #nowhere/);
  });

  test('usage errors name the command; unknown commands are refused', () => {
    expect(() => parseInput('/msg bob', ctx)).toThrow(new UsageError('usage: /msg NAME TEXT'));
    expect(() => parseInput('/history 0', ctx)).toThrow(/between 1 and 500/);
    expect(() => parseInput('/teleport', ctx)).toThrow(/Unknown command \/teleport/);
    expect(() => parseInput('hi', { current: null, rooms: new Set() })).toThrow(/not in a room/);
  });
});

describe('Roster', () => {
  test('a renamed room keeps its place, its members and being current', () => {
    const r = new Roster('amy');
    r.apply({ type: 'welcome', name: 'amy', address: '', server: 's', rooms: [] });
    const members = [{ name: 'amy', op: true, voice: false, away: false }];
    r.apply({ type: 'joined', ts: 0, room: '#a', name: 'amy', members });
    r.apply({ type: 'joined', ts: 0, room: '#b', name: 'amy', members });
    r.apply({ type: 'joined', ts: 0, room: '#c', name: 'amy', members });
    r.apply({ type: 'joined', ts: 0, room: '#b', name: 'ben' });
    r.current = '#b';
    const rename = { type: 'rename', ts: 0, room: '#B', to: '#bee', by: 'x', reason: '', text: '' };
    expect(r.apply(rename as Parameters<Roster['apply']>[0])).toBe(true);
    expect([...r.rooms]).toEqual(['#a', '#bee', '#c']);
    expect(r.prompt()).toBe('[amy@#bee]> ');
    expect(r.membersOf('#bee')).toEqual(['amy', 'ben']);
    expect(r.membersOf('#b')).toEqual([]);
    // Not one of ours: nothing changes.
    expect(r.apply({ ...rename, room: '#zzz' } as Parameters<Roster['apply']>[0])).toBe(false);
  });

  test('follows joins, parts, nicks and quits', () => {
    const r = new Roster('amy');
    r.apply({ type: 'welcome', name: 'amy', address: '', server: 's', rooms: [] });
    const members = [{ name: 'amy', op: true, voice: false, away: false }];
    expect(r.apply({ type: 'joined', ts: 0, room: '#a', name: 'amy', members })).toBe(true);
    r.apply({ type: 'joined', ts: 0, room: '#b', name: 'amy', members });
    r.apply({ type: 'joined', ts: 0, room: '#b', name: 'ben' });
    expect(r.prompt()).toBe('[amy@#b]> ');
    expect(r.membersOf('#B')).toEqual(['amy', 'ben']);
    r.apply({ type: 'nick', ts: 0, old: 'ben', name: 'benny' });
    expect(r.membersOf('#b')).toEqual(['amy', 'benny']);
    r.apply({ type: 'quit', ts: 0, name: 'benny', reason: 'x', rooms: ['#b'] });
    expect(r.membersOf('#b')).toEqual(['amy']);
    r.apply({ type: 'left', ts: 0, room: '#B', name: 'amy', reason: '' });
    expect([...r.rooms]).toEqual(['#a']);
    expect(r.current).toBe('#a');
    r.apply({ type: 'nick', ts: 0, old: 'amy', name: 'amelia' });
    expect(r.prompt()).toBe('[amelia@#a]> ');
    r.apply({ type: 'left', ts: 0, room: '#a', name: 'amelia', reason: '' });
    expect(r.prompt()).toBe('[amelia@(no room)]> ');
  });

  test('the welcome alone is enough to know the current room', () => {
    const r = new Roster('amy');
    const lobby = { name: '#Lobby', topic: '', members: 3 };
    r.apply({ type: 'welcome', name: 'Amy', address: '', server: 's', rooms: [lobby] });
    expect(r.prompt()).toBe('[Amy@#Lobby]> ');
    r.apply({ type: 'joined', ts: 0, room: '#Lobby', name: 'Amy' });
    expect([...r.rooms]).toEqual(['#Lobby']);
  });

  test('a variant of the name is said, in the prompt too, until the user picks a name', () => {
    const r = new Roster('amy');
    const lobby = { name: '#lobby', topic: '', members: 3 };
    r.apply({ type: 'welcome', name: 'amy_', address: '', server: 's', rooms: [lobby] });
    expect(r.takenNotice()).toBe('* amy is taken; you are amy_ — /nick to change');
    expect(r.prompt()).toBe('[amy_ (amy is taken)@#lobby]> ');
    // A reconnect asks for the wanted name again, and says so again if it is still taken.
    r.reset();
    r.apply({ type: 'welcome', name: 'amy_2', address: '', server: 's', rooms: [lobby] });
    expect(r.takenNotice()).toBe('* amy is taken; you are amy_2 — /nick to change');
    r.apply({ type: 'nick', ts: 0, old: 'amy_2', name: 'amelia' });
    expect(r.takenNotice()).toBeNull();
    expect(r.prompt()).toBe('[amelia@#lobby]> ');
    expect(r.wanted).toBe('amelia');
  });
});

describe('formatting', () => {
  const view = { me: 'amy', current: '#a', paint: (n: string) => n };
  test('terminal control characters in incoming text are removed', () => {
    const msg = clean({
      type: 'message' as const,
      id: '1',
      ts: 0,
      room: '#a',
      from: 'x\x1b',
      text: 'hi \x1b[2J\x07there\x9b',
      kind: 'say' as const,
    });
    expect(formatEvent(msg, view)[0]).toMatch(/<x> hi \[2Jthere$/);
  });

  test('messages in other rooms name the room', () => {
    const line = formatEvent(
      { type: 'message', id: '1', ts: 0, room: '#b', from: 'ben', text: 'yo', kind: 'me' },
      view,
    )[0];
    expect(line).toMatch(/^\[\d\d:\d\d\] #b \* ben yo$/);
  });

  test('a resume replay says what was missed, and a gap it could not fill', () => {
    const m = (id: string, text: string) => ({
      id,
      ts: 0,
      room: '#a',
      from: 'bo',
      text,
      kind: 'say' as const,
    });
    const all = formatEvent(
      { type: 'history', room: '#a', after: '1', missed: 2, messages: [m('2', 'x'), m('3', 'y')] },
      view,
    );
    expect(all[0]).toBe('* 2 messages in #a while you were away:');
    expect(all.slice(1).map((l) => l.replace(/^\[\d\d:\d\d\] /, ''))).toEqual(['<bo> x', '<bo> y']);
    const gap = formatEvent(
      { type: 'history', room: '#a', after: '1', missed: 742, messages: [m('9', 'z')] },
      view,
    );
    expect(gap[0]).toBe('* 742 messages in #a while you were away; the last 1:');
    const old = formatEvent(
      {
        type: 'history',
        room: '#a',
        after: '1',
        missed: 1,
        truncated: true,
        messages: [m('9', 'z')],
      },
      view,
    );
    expect(old[1]).toBe('* (some older ones are no longer kept by the server)');
    // Nothing missed: nothing said (a reconnect that lost nothing is quiet).
    expect(
      formatEvent({ type: 'history', room: '#a', after: '1', missed: 0, messages: [] }, view),
    ).toEqual([]);
  });
});

describe('/search', () => {
  test('words as typed; a first #word with more after it names the room; /more is local', () => {
    expect(parseInput('/search  deploy  failed', ctx)).toEqual({
      kind: 'request',
      request: { type: 'search', q: 'deploy  failed' },
    });
    expect(parseInput('/search #ops deploy', ctx)).toEqual({
      kind: 'request',
      request: { type: 'search', room: '#ops', q: 'deploy' },
    });
    // A lone #word is the thing looked for.
    expect(parseInput('/search #ops', ctx)).toEqual({
      kind: 'request',
      request: { type: 'search', q: '#ops' },
    });
    expect(() => parseInput('/search', ctx)).toThrow(UsageError);
    expect(parseInput('/more', ctx)).toEqual({ kind: 'more' });
  });

  test('matches show their day, time and room; a private one as /msg shows it', () => {
    const view = { me: 'ann', current: '#lobby', paint: (n: string) => n };
    const ts = new Date(2026, 0, 2, 3, 4).getTime();
    const lines = formatEvent(
      {
        type: 'search',
        q: 'x',
        terms: ['x'],
        messages: [
          { id: '3', ts, room: '#lobby', from: 'ben', text: 'x one', kind: 'say' },
          { id: '2', ts, with: 'ben', from: 'ann', text: 'x two', kind: 'say' },
          { id: '1', ts, with: 'ben', from: 'ben', text: 'x three', kind: 'say' },
        ],
        next: '1',
      },
      view,
    );
    expect(lines).toEqual([
      '* 3 messages for "x" in your rooms, newest first:',
      '[2026-01-02 03:04] #lobby <ben> x one',
      '[2026-01-02 03:04] -> *ben* x two',
      '[2026-01-02 03:04] *ben* x three',
      '* More: /more for older matches',
    ]);
    expect(
      formatEvent(
        { type: 'search', q: 'x', terms: ['x'], room: '#a', messages: [], next: null },
        view,
      ),
    ).toEqual(['* Nothing found for "x" in #a']);
  });
});

describe('/help', () => {
  test('at any width every row fits, and a wrapped description stays in its column', () => {
    for (const width of [100, 80, 60, 40, 30]) {
      const lines = helpLines('#lobby', width);
      for (const line of lines) {
        expect(line.length, `${width}: ${line}`).toBeLessThanOrEqual(width);
        // Every row is part of the table: none begins with the space a wrap broke at.
        expect(line, `${width}`).toMatch(/^\*( +\S|$)/);
      }
    }
    const at100 = helpLines('#lobby', 100);
    const history = at100.findIndex((l) => l.includes('/history'));
    const column = (at100[history] ?? '').indexOf('the last N');
    expect(column).toBeGreaterThan(20);
    expect(at100[history + 1]).toBe(`*${' '.repeat(column - 1)}NAME (identified)`);
    // In a pipe nothing is wrapped: one line per command.
    expect(helpLines('#lobby').length).toBe(at100.length - 1);
  });

  test('wrapWords breaks at spaces, cuts a word longer than a line, keeps every word', () => {
    expect(wrapWords('aa bb cc', 5, '')).toEqual(['aa bb', 'cc']);
    expect(wrapWords('aa bb cc', 6, '> ')).toEqual(['aa bb', '> cc']);
    expect(wrapWords('abcdefgh', 3, '')).toEqual(['abc', 'def', 'gh']);
    expect(wrapWords('', 10, '')).toEqual(['']);
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,12}$/), { maxLength: 30 }),
        fc.integer({ min: 3, max: 40 }),
        (words, width) => {
          const lines = wrapWords(words.join(' '), width, '  ');
          for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
          const joined = lines.map((l, i) => (i === 0 ? l : l.slice(2))).join(' ');
          expect(joined.split(' ').join('')).toBe(words.join(''));
        },
      ),
    );
  });
});
