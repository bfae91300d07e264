/**
 * Client-only tags as the stores keep them (core/tags.ts): what is written reads back the
 * same, and any column text at all reads back as tags the live relay would pass (or none),
 * never an exception.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkClientTags, storedTags, tagsFromStore } from '../../src/core/tags.js';

const key = fc
  .tuple(
    fc.option(fc.stringMatching(/^[a-z0-9.-]{1,10}$/), { nil: undefined }),
    fc.stringMatching(/^[A-Za-z0-9-]{1,10}$/),
  )
  .map(([vendor, name]) => `+${vendor ? `${vendor}/` : ''}${name}`);
const cleanTags = fc.dictionary(key, fc.string({ maxLength: 30 })).map((t) => checkClientTags(t));

describe('stored client tags', () => {
  test('round-trip: what checkClientTags passed is read back the same', () => {
    fc.assert(
      fc.property(cleanTags, (tags) => {
        expect(tagsFromStore(storedTags(tags))).toEqual(tags);
      }),
    );
  });

  test('any column text reads back as tags within the live rule and bound, or none', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .dictionary(fc.string(), fc.oneof(fc.string(), fc.integer()))
            .map((d) => JSON.stringify(d)),
        ),
        (text) => {
          const tags = tagsFromStore(text);
          if (tags !== undefined) expect(checkClientTags(tags)).toEqual(tags);
        },
      ),
    );
  });

  test('no tags: null column, empty, arrays and non-strings are none', () => {
    expect(storedTags(undefined)).toBeNull();
    for (const text of [null, undefined, '', '[]', '"x"', '5', '{"+a":1}', '{broken']) {
      expect(tagsFromStore(text)).toBeUndefined();
    }
    // The bound holds on read too (a hand-edited row).
    const big = JSON.stringify({ '+a': 'x'.repeat(5000) });
    expect(tagsFromStore(big)).toBeUndefined();
  });
});
