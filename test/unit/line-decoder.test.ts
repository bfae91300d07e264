import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LineDecoder, type LineItem } from '../../src/protocols/line/decoder.js';

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
  test('LF, CRLF, CR and CR NUL all end lines', () => {
    const items = decodeAll([Buffer.from('a\nb\r\nc\rd\r\0e\n')]);
    expect(items).toEqual(['a', 'b', 'c', 'd', 'e'].map((text) => ({ kind: 'line', text })));
  });

  test('a CRLF split across chunks is one line end', () => {
    expect(decodeAll([Buffer.from('a\r'), Buffer.from('\nb\n')])).toEqual([
      { kind: 'line', text: 'a' },
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

  test('telnet negotiation is answered and stripped', () => {
    // IAC DO ECHO, IAC WILL NAWS, IAC SB NAWS 0 80 0 24 IAC SE, then text.
    const input = Buffer.from([
      255, 253, 1, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240, 0x68, 0x69, 10,
    ]);
    expect(decodeAll([input])).toEqual([
      { kind: 'telnet', reply: Buffer.from([255, 252, 1]) },
      { kind: 'telnet', reply: Buffer.from([255, 254, 31]) },
      { kind: 'line', text: 'hi' },
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
          expect(items).toEqual(lines.map((text) => ({ kind: 'line', text })));
        },
      ),
      { numRuns: 200 },
    );
  });
});
