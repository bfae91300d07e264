import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  LineDecoder,
  MAX_SUBNEGOTIATION,
  type LineItem,
} from '../../src/protocols/line/decoder.js';

function decodeAll(chunks: Buffer[], max = 4096): LineItem[] {
  const d = new LineDecoder(max);
  return chunks.flatMap((c) => d.push(c));
}

/** Splits `buf` at the given cut points. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('LineDecoder', () => {
  test('LF, CRLF, CR and CR NUL all end lines; CR LF and CR NUL are reported', () => {
    const items = decodeAll([Buffer.from('a\nb\r\nc\rd\r\0e\n')]);
    expect(items).toEqual([
      { kind: 'line', text: 'a' },
      { kind: 'line', text: 'b' },
      { kind: 'line-end', ending: 'crlf' },
      { kind: 'line', text: 'c' },
      { kind: 'line', text: 'd' },
      { kind: 'line-end', ending: 'crnul' },
      { kind: 'line', text: 'e' },
    ]);
  });

  test('a CRLF split across chunks is one line end', () => {
    expect(decodeAll([Buffer.from('a\r'), Buffer.from('\nb\n')])).toEqual([
      { kind: 'line', text: 'a' },
      { kind: 'line-end', ending: 'crlf' },
      { kind: 'line', text: 'b' },
    ]);
  });

  test('UTF-8 split across chunks, CJK and emoji', () => {
    const bytes = Buffer.from('你好 🎉\n');
    expect(decodeAll(split(bytes, [1, 2, 5, 7]))).toEqual([{ kind: 'line', text: '你好 🎉' }]);
  });

  test('invalid UTF-8 becomes U+FFFD', () => {
    expect(decodeAll([Buffer.from([0x61, 0xc3, 0x28, 0x0a])])).toEqual([
      { kind: 'line', text: 'a\uFFFD(' },
    ]);
  });

  test('telnet commands are taken out of the text and handed on', () => {
    // IAC DO ECHO, IAC WILL NAWS, IAC SB NAWS 0 80 0 24 IAC SE, "h", IAC IP, "i", LF.
    const input = Buffer.from([
      255, 253, 1, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240, 0x68, 255, 244, 0x69, 10,
    ]);
    expect(decodeAll([input])).toEqual([
      { kind: 'negotiate', verb: 253, option: 1 },
      { kind: 'negotiate', verb: 251, option: 31 },
      { kind: 'subnegotiation', option: 31, data: Buffer.from([0, 80, 0, 24]) },
      { kind: 'command', code: 244 },
      { kind: 'line', text: 'hi' },
    ]);
  });

  test('IAC before a byte that is no telnet command is data (a Latin-1 0xFF), not a command', () => {
    expect(decodeAll([Buffer.from([0x61, 255, 0x62, 0x63, 10])])).toEqual([
      { kind: 'line', text: 'a\uFFFDbc' },
    ]);
    expect(decodeAll([Buffer.from([255]), Buffer.from([0x62, 10])])).toEqual([
      { kind: 'line', text: '\uFFFDb' },
    ]);
    // It may be the last byte of a line.
    expect(decodeAll([Buffer.from([0x61, 255, 10, 0x62, 10])])).toEqual([
      { kind: 'line', text: 'a\uFFFD' },
      { kind: 'line', text: 'b' },
    ]);
  });

  test('IAC IAC inside a subnegotiation is one 0xFF; other commands in it are ignored', () => {
    // NAWS width 255 (escaped), height 24, with a stray IAC NOP inside.
    const input = Buffer.from([255, 250, 31, 0, 255, 255, 255, 241, 0, 24, 255, 240]);
    expect(decodeAll([input])).toEqual([
      { kind: 'subnegotiation', option: 31, data: Buffer.from([0, 255, 0, 24]) },
    ]);
  });

  test('a subnegotiation longer than the bound is dropped, the stream goes on', () => {
    const long = Buffer.alloc(MAX_SUBNEGOTIATION + 1, 0x41);
    const input = Buffer.concat([
      Buffer.from([255, 250, 24, 0]),
      long,
      Buffer.from([255, 240]),
      Buffer.from('ok\n'),
    ]);
    expect(decodeAll([input])).toEqual([{ kind: 'line', text: 'ok' }]);
    const fits = Buffer.concat([
      Buffer.from([255, 250, 24]),
      Buffer.alloc(MAX_SUBNEGOTIATION, 0x41),
      Buffer.from([255, 240]),
    ]);
    expect(decodeAll([fits])).toEqual([
      { kind: 'subnegotiation', option: 24, data: Buffer.alloc(MAX_SUBNEGOTIATION, 0x41) },
    ]);
  });

  test('an over-long line keeps its first part and reports it', () => {
    const items = decodeAll([Buffer.from('x'.repeat(100) + '\nok\n')], 10);
    expect(items).toEqual([
      { kind: 'overlong', text: 'x'.repeat(10) },
      { kind: 'line', text: 'ok' },
    ]);
  });

  test('any split of any bytes decodes to the same items and never throws', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1, max: 64 }),
        (bytes, cuts, max) => {
          const buf = Buffer.from(bytes);
          const whole = decodeAll([buf], max);
          const pieces = decodeAll(split(buf, cuts), max);
          expect(pieces).toEqual(whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('text lines made of printable text round-trip', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !/[\r\n\0\xff]/.test(s)),
        ),
        (lines) => {
          const items = decodeAll([Buffer.from(lines.map((l) => l + '\r\n').join(''))], 100_000);
          expect(items).toEqual(
            lines.flatMap((text) => [
              { kind: 'line', text },
              { kind: 'line-end', ending: 'crlf' },
            ]),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a telnet stream split anywhere decodes to what was sent, in order', () => {
    // Tokens a telnet client sends, each with the items it must decode to.
    type Token = { bytes: number[]; items: LineItem[]; text?: string };
    const verb = fc.constantFrom(251, 252, 253, 254);
    const subData = fc.uint8Array({ maxLength: MAX_SUBNEGOTIATION });
    const token: fc.Arbitrary<Token> = fc.oneof(
      fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).map((t) => {
        const clean = t.replace(/[\r\n\0]/g, '');
        return { bytes: [...Buffer.from(clean)], items: [], text: clean };
      }),
      fc.string({ unit: 'grapheme', maxLength: 4 }).map((t) => {
        const clean = t.replace(/[\r\n\0\uFFFD]/g, '');
        return { bytes: [...Buffer.from(clean)], items: [], text: clean };
      }),
      fc.tuple(verb, fc.nat(255)).map(([v, o]) => ({
        bytes: [255, v, o],
        items: [{ kind: 'negotiate', verb: v, option: o } as LineItem],
      })),
      fc.tuple(fc.nat(255), subData).map(([o, data]) => ({
        bytes: [255, 250, o, ...[...data].flatMap((b) => (b === 255 ? [255, 255] : [b])), 255, 240],
        items: [{ kind: 'subnegotiation', option: o, data: Buffer.from(data) } as LineItem],
      })),
      fc.constantFrom(241, 243, 244, 245, 246, 249).map((c) => ({
        bytes: [255, c],
        items: [{ kind: 'command', code: c } as LineItem],
      })),
    );
    const ending = fc.constantFrom('\n', '\r\n', '\r\0');
    const line = fc.tuple(fc.array(token, { maxLength: 6 }), ending);
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (lines, cuts) => {
          const bytes: number[] = [];
          const expected: LineItem[] = [];
          for (const [tokens, end] of lines) {
            let text = '';
            for (const t of tokens) {
              bytes.push(...t.bytes);
              expected.push(...t.items);
              text += t.text ?? '';
            }
            bytes.push(...Buffer.from(end));
            expected.push({ kind: 'line', text });
            if (end === '\r\n') expected.push({ kind: 'line-end', ending: 'crlf' });
            if (end === '\r\0') expected.push({ kind: 'line-end', ending: 'crnul' });
          }
          const buf = Buffer.from(bytes);
          expect(decodeAll([buf], 100_000)).toEqual(expected);
          expect(decodeAll(split(buf, cuts), 100_000)).toEqual(expected);
          // One byte at a time, as the slowest network delivers it.
          expect(
            decodeAll(
              [...buf].map((b) => Buffer.from([b])),
              100_000,
            ),
          ).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });
});
