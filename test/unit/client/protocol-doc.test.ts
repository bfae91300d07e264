/**
 * docs/protocol.md's worked framed examples are checked against the real encoder, so the
 * page cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { encodeFrame } from '../../../src/protocols/framed/codec.js';

const doc = readFileSync(join(import.meta.dirname, '../../../docs/protocol.md'), 'utf8');

/** The hex bytes of a fenced dump in the doc: pairs of hex digits before the gloss. */
function dumpAfter(marker: string): string {
  const at = doc.indexOf(marker);
  expect(at).toBeGreaterThan(-1);
  const block = doc.slice(
    doc.indexOf('```\n', at) + 4,
    doc.indexOf('\n```', doc.indexOf('```\n', at) + 4),
  );
  const bytes: string[] = [];
  for (const line of block.split('\n')) {
    // Leading two-digit hex tokens are bytes; the gloss after them is not.
    for (const token of line.trim().split(/\s+/)) {
      if (!/^[0-9a-f]{2}$/.test(token)) break;
      bytes.push(token);
    }
  }
  return bytes.join(' ');
}

const hex = (b: Buffer) => b.toString('hex').match(/../g)!.join(' ');

test('the ping example', () => {
  expect(dumpAfter('Worked example')).toBe(hex(encodeFrame('{"type":"ping"}')));
});

test('the multi-byte example: the length counts bytes', () => {
  const frame = encodeFrame(JSON.stringify({ type: 'say', room: '#lobby', text: 'hé', ref: 1 }));
  expect(frame.readUInt32BE(0)).toBe(51);
  expect(dumpAfter('The length counts **bytes**')).toBe(hex(frame));
});
