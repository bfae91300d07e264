import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { encodeFrame, FrameDecoder, type FrameItem } from '../../src/protocols/framed/codec.js';

function decodeAll(chunks: Buffer[], max = 65536): FrameItem[] {
  const d = new FrameDecoder(max);
  return chunks.flatMap((c) => d.push(c));
}

describe('FrameDecoder', () => {
  test('worked example: {"type":"ping"}', () => {
    const frame = encodeFrame('{"type":"ping"}');
    expect(frame.toString('hex')).toBe('0000000f7b2274797065223a2270696e67227d');
    expect(decodeAll([frame])).toEqual([
      { kind: 'frame', payload: Buffer.from('{"type":"ping"}') },
    ]);
  });

  test('split at every byte boundary, and several frames per read', () => {
    const frames = ['{"a":1}', '{"b":"你好 🎉"}', '{}'].map(encodeFrame);
    const all = Buffer.concat(frames);
    for (let cut = 0; cut <= all.length; cut++) {
      const items = decodeAll([all.subarray(0, cut), all.subarray(cut)]);
      expect(items.map((i) => (i.kind === 'frame' ? i.payload.toString() : 'x'))).toEqual([
        '{"a":1}',
        '{"b":"你好 🎉"}',
        '{}',
      ]);
    }
    expect(decodeAll([...all].map((b) => Buffer.from([b]))).length).toBe(3);
  });

  test('a length over the limit is reported once, then the stream is dropped', () => {
    const big = Buffer.alloc(4);
    big.writeUInt32BE(70_000);
    expect(decodeAll([big, encodeFrame('{}')], 65536)).toEqual([
      { kind: 'too_large', length: 70_000 },
    ]);
  });

  test('any split of any byte stream gives the same items and never throws', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (bytes, cuts) => {
          const buf = Buffer.from(bytes);
          const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(buf.subarray(prev, p));
            prev = p;
          }
          chunks.push(buf.subarray(prev));
          expect(decodeAll(chunks, 64)).toEqual(decodeAll([buf], 64));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('encoded frames of arbitrary JSON decode back', () => {
    fc.assert(
      fc.property(fc.array(fc.json(), { maxLength: 5 }), (docs) => {
        const items = decodeAll([Buffer.concat(docs.map(encodeFrame))], 1 << 20);
        expect(items.map((i) => (i.kind === 'frame' ? i.payload.toString('utf8') : null))).toEqual(
          docs,
        );
      }),
    );
  });
});
