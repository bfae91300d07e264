/**
 * Tab completion of names: the word before the caret is completed from the room's
 * members; pressing Tab again cycles through the other matches.
 */
export interface Completion {
  value: string;
  caret: number;
}

export class NameCompleter {
  private state: { prefix: string; start: number; matches: string[]; index: number } | null = null;

  /** Forget the cycle (any key other than Tab). */
  reset(): void {
    this.state = null;
  }

  complete(value: string, caret: number, names: readonly string[]): Completion | null {
    if (this.state === null) {
      const before = value.slice(0, caret);
      const start = before.search(/\S*$/);
      const prefix = before.slice(start).replace(/^@/, '');
      if (prefix === '') return null;
      const lower = prefix.toLowerCase();
      const matches = [...names]
        .filter((n) => n.toLowerCase().startsWith(lower))
        .sort((a, b) => a.localeCompare(b));
      if (matches.length === 0) return null;
      this.state = { prefix, start, matches, index: -1 };
    }
    const s = this.state;
    s.index = (s.index + 1) % s.matches.length;
    const name = s.matches[s.index] ?? '';
    // At the start of the line, address the person ("bob: "); elsewhere just the name.
    const insert = s.start === 0 ? `${name}: ` : `${name} `;
    const end = this.endOfWord(value, s.start);
    const next = value.slice(0, s.start) + insert + value.slice(end).replace(/^\s+/, '');
    return { value: next, caret: s.start + insert.length };
  }

  /** End of the word being completed, including a suffix we inserted last time. */
  private endOfWord(value: string, start: number): number {
    const m = /^\S*(: |\s)?/.exec(value.slice(start));
    return start + (m ? m[0].length : 0);
  }
}
