/**
 * IRC-style wildcard masks (`*` any run, `?` one character), matched without regular
 * expressions and without backtracking. A mask comes from a person (WHO, +b, server bans):
 * turned into a RegExp, `*a*a*a*a*z` against a long realname backtracks exponentially and
 * froze the event loop for 51 s. Here the mask is cut at its stars into literal segments;
 * the first must match at the start, the last at the end, and each one between is looked
 * for once, leftmost, after the previous one. Leftmost is always right for globs (a later
 * match of a segment can only leave less room for the rest), so nothing is ever retried:
 * the cost is at most |subject| × |segment| per segment, i.e. |subject| × |mask| in all,
 * and masks are bounded in length where they are accepted (see `maxMaskLength`).
 */

/** Longest mask accepted anywhere (bans, WHO); longer ones are refused where they enter. */
export const maxMaskLength = 300;

/** Compares one literal segment (with `?`) against `subject` at `at`. */
function segmentAt(subject: string, at: number, seg: string): boolean {
  if (at + seg.length > subject.length) return false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c !== 63 /* ? */ && c !== subject.charCodeAt(at + i)) return false;
  }
  return true;
}

/** The leftmost index ≥ `from` where `seg` matches, or -1. */
function findSegment(subject: string, from: number, seg: string): number {
  if (!seg.includes('?')) return subject.indexOf(seg, from);
  const last = subject.length - seg.length;
  for (let at = from; at <= last; at++) if (segmentAt(subject, at, seg)) return at;
  return -1;
}

/**
 * True when `subject` matches `mask`. Both are compared exactly as given: callers fold
 * case first (see names.ts `maskMatches`).
 */
export function wildcardMatch(mask: string, subject: string): boolean {
  const segments = mask.split('*');
  if (segments.length === 1) {
    return mask.length === subject.length && segmentAt(subject, 0, mask);
  }
  const first = segments[0] as string;
  const lastSeg = segments[segments.length - 1] as string;
  if (first.length + lastSeg.length > subject.length) return false;
  if (!segmentAt(subject, 0, first)) return false;
  const end = subject.length - lastSeg.length;
  if (!segmentAt(subject, end, lastSeg)) return false;
  let pos = first.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const seg = segments[i] as string;
    if (seg === '') continue;
    const at = findSegment(subject, pos, seg);
    // The middle segments must fit before the part the last segment took.
    if (at < 0 || at + seg.length > end) return false;
    pos = at + seg.length;
  }
  return true;
}
