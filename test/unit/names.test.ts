import { expect, test } from 'vitest';
import { maskMatches, nameProblem, roomProblem } from '../../src/core/names.js';
import { stripControls, truncateUtf8 } from '../../src/core/text.js';
import { normalizeMask } from '../../src/core/masks.js';

test('name rules', () => {
  expect(nameProblem('alice', 30)).toBeNull();
  expect(nameProblem('[x]_y-2', 30)).toBeNull();
  expect(nameProblem('', 30)).toMatch(/empty/);
  expect(nameProblem('1abc', 30)).toMatch(/start/);
  expect(nameProblem('a b', 30)).toMatch(/only contain/);
  expect(nameProblem('a'.repeat(31), 30)).toMatch(/at most 30/);
  expect(nameProblem('émile', 30)).not.toBeNull();
});

test('room rules', () => {
  expect(roomProblem('#lobby', 50)).toBeNull();
  expect(roomProblem('lobby', 50)).toMatch(/#/);
  expect(roomProblem('#a b', 50)).toMatch(/spaces/);
  expect(roomProblem('#a,b', 50)).toMatch(/commas/);
  expect(roomProblem('#', 50)).toMatch(/at least/);
});

test('masks', () => {
  expect(normalizeMask('bob')).toBe('bob!*@*');
  expect(normalizeMask('*@10.0.0.1')).toBe('*!*@10.0.0.1');
  expect(maskMatches('bob!*@*', 'Bob!bob@127.0.0.1')).toBe(true);
  expect(maskMatches('*!*@10.*', 'bob!bob@127.0.0.1')).toBe(false);
});

test('control characters never pass, tabs do', () => {
  expect(stripControls('a\x1b[31mred\x07\tb\u009bc')).toBe('a[31mred\tbc');
  expect(truncateUtf8('你好你好', 7)).toBe('你好');
});
