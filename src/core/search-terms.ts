/**
 * What a person typed into a search, as the words a store looks up. Pure and shared by
 * every store, so no store ever sees the raw text: each gets words made only of letters,
 * digits and private-use characters, and turns them into its own query (an FTS5 phrase
 * with a prefix star, a PostgreSQL tsquery lexeme) with no operator a person could type.
 *
 * The word rule is SQLite FTS5's default tokenizer's (unicode61, categories "L* N* Co",
 * https://sqlite.org/fts5.html#unicode61_tokenizer): a word is a run of those characters,
 * everything else separates words. So `"); DROP --` and `NEAR(a b)` are plain words or
 * nothing, never syntax, and a query of only punctuation or emoji is refused with a reason.
 */
import { ChatError, ErrorCode } from './errors.js';

/** Fixed, never built from input. */
const WORD = /[\p{L}\p{N}\p{Co}]+/gu;
const MARKS = /\p{M}/gu;

export interface TermLimits {
  /** Most bytes of UTF-8 a search may have. */
  maxBytes: number;
  /** Most distinct words a search may have. */
  maxTerms: number;
}

/**
 * The distinct words of `text`, lower-cased, in the order typed. Throws a `bad_query`
 * ChatError, with what to do, when there is no word or too much.
 */
export function searchTerms(text: string, limits: TermLimits): string[] {
  if (Buffer.byteLength(text) > limits.maxBytes) {
    throw new ChatError(
      ErrorCode.BadQuery,
      `A search is at most ${limits.maxBytes} bytes; use fewer words`,
    );
  }
  const words: string[] = [];
  for (const m of text.matchAll(WORD)) {
    const w = m[0].toLowerCase();
    if (!words.includes(w)) words.push(w);
  }
  if (words.length === 0) {
    throw new ChatError(
      ErrorCode.BadQuery,
      'Nothing to search for: give at least one word (letters or digits)',
    );
  }
  if (words.length > limits.maxTerms) {
    throw new ChatError(
      ErrorCode.BadQuery,
      `A search has at most ${limits.maxTerms} different words (got ${words.length})`,
    );
  }
  return words;
}

/**
 * A word as matching compares it: lower case, without diacritics (what FTS5's
 * `remove_diacritics 2` does), for stores that match in code (the memory store).
 */
export function foldWord(w: string): string {
  return w.normalize('NFD').replace(MARKS, '').normalize('NFC').toLowerCase();
}

/**
 * True when every term starts a word of `text` (a one-character term must be the whole
 * word: a prefix that short would match nearly everything). The memory store's match.
 */
export function textMatches(text: string, terms: readonly string[]): boolean {
  const words = new Set<string>();
  for (const m of text.matchAll(WORD)) words.add(foldWord(m[0]));
  return terms.every((t) => {
    const term = foldWord(t);
    if (!isPrefixTerm(term)) return words.has(term);
    for (const w of words) if (w.startsWith(term)) return true;
    return false;
  });
}

/** Whether a term is looked up as a prefix (two characters or more) or as a whole word. */
export function isPrefixTerm(term: string): boolean {
  return [...term].length >= 2;
}
