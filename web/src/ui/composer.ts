/**
 * The input line: Enter sends, Up/Down walk through what you sent before (like a shell),
 * Tab completes names from the current room.
 */
import { NameCompleter } from '../complete.js';

const RECALL_MAX = 100;

export class Composer {
  private readonly sent: string[] = [];
  /** Position in `sent` while recalling; sent.length means "the line being typed". */
  private cursor = 0;
  private draft = '';
  private readonly completer = new NameCompleter();

  constructor(
    private readonly input: HTMLInputElement,
    form: HTMLFormElement,
    submit: (text: string) => boolean,
    names: () => string[],
  ) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value;
      if (text.trim() === '') return;
      // Keep the text when it could not be sent (offline): nothing typed is lost.
      if (!submit(text)) return;
      if (this.sent[this.sent.length - 1] !== text) this.sent.push(text);
      if (this.sent.length > RECALL_MAX) this.sent.shift();
      this.cursor = this.sent.length;
      this.draft = '';
      input.value = '';
    });
    input.addEventListener('keydown', (e) => {
      if (e.key !== 'Tab') this.completer.reset();
      if (e.key === 'Tab' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
        const done = this.completer.complete(
          input.value,
          input.selectionStart ?? input.value.length,
          names(),
        );
        if (done) {
          e.preventDefault();
          input.value = done.value;
          input.setSelectionRange(done.caret, done.caret);
        } else if (input.value !== '') {
          e.preventDefault(); // no match: stay in the input rather than jump focus mid-word
        }
      } else if (e.key === 'ArrowUp' && !e.shiftKey) {
        if (this.cursor === 0) return;
        e.preventDefault();
        if (this.cursor === this.sent.length) this.draft = input.value;
        this.cursor--;
        this.show(this.sent[this.cursor] ?? '');
      } else if (e.key === 'ArrowDown' && !e.shiftKey) {
        if (this.cursor >= this.sent.length) return;
        e.preventDefault();
        this.cursor++;
        this.show(this.cursor === this.sent.length ? this.draft : (this.sent[this.cursor] ?? ''));
      }
    });
  }

  private show(text: string): void {
    this.input.value = text;
    this.input.setSelectionRange(text.length, text.length);
  }

  setPlaceholder(text: string): void {
    this.input.placeholder = text;
  }

  focus(): void {
    this.input.focus();
  }
}
