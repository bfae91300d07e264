import { describe, expect, test } from 'vitest';
import { formatMessage, lineBytes } from '../../src/protocols/line/encoder.js';
import { displayWidth } from '../../src/protocols/line/wrap.js';

const ts = new Date(2026, 0, 1, 14, 2).getTime();

describe('line encoder output', () => {
  test('message prefixes: the continuation column is where the text starts', () => {
    expect(formatMessage(ts, null, 'alice', 'hi', 'say')).toEqual({
      text: '[14:02] <alice> hi',
      prefix: '[14:02] <alice> ',
    });
    expect(formatMessage(ts, '#dev', 'bob', 'waves', 'me').prefix).toBe('[14:02] #dev * bob ');
    // Measured in columns: a wide room name takes two per character.
    const wide = formatMessage(ts, '#日本', 'x', 'y wraps under the text here', 'say');
    expect(lineBytes(wide.text, 40, wide.prefix).toString().split('\r\n')[1]).toBe(
      ' '.repeat(displayWidth('[14:02] #日本 <x> ')) + 'here',
    );
    expect(displayWidth(wide.prefix)).toBe(displayWidth('[14:02] #日本 <x> '));
  });

  test('without a width nothing is wrapped; with one, under the text, CR LF between rows', () => {
    const { text, prefix } = formatMessage(ts, null, 'alice', 'one two three four five six', 'say');
    expect(lineBytes(text, 0, prefix).toString()).toBe(`${text}\r\n`);
    expect(lineBytes(text, 32, prefix).toString()).toBe(
      '[14:02] <alice> one two three\r\n                four five six\r\n',
    );
  });

  test('notices and errors continue after "* " or "! "; a prefix wider than half the window, at 2', () => {
    expect(lineBytes('* alpha beta gamma delta epsilon zeta', 20).toString()).toBe(
      '* alpha beta gamma\r\n  delta epsilon zeta\r\n',
    );
    const long = formatMessage(ts, '#a-rather-long-room', 'somebody', 'text goes here', 'say');
    expect(lineBytes(long.text, 40, long.prefix).toString()).toBe(
      '[14:02] #a-rather-long-room <somebody>\r\n  text goes here\r\n',
    );
  });
});
