/**
 * Where the terminal client's output goes. On a terminal, lines are printed above the
 * prompt and the half-typed input is redrawn below them intact, even when it wraps over
 * several rows. In a pipe, lines are simply written. Either way `--log` gets a copy with a
 * timestamp and without colours.
 */
import { appendFileSync } from 'node:fs';
import { clearScreenDown, cursorTo, moveCursor, type Interface } from 'node:readline';

// Our own colour codes: the only escape sequences that reach the screen (incoming text is
// cleaned first), and the ones the transcript leaves out.
const SGR = /\x1b\[[0-9;]*m/g;

export class Screen {
  private rl: Interface | null = null;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty: boolean,
    private readonly logFile: string | undefined,
  ) {}

  /** From now on, print above this readline's prompt. */
  attach(rl: Interface): void {
    this.rl = rl;
  }

  detach(): void {
    this.rl = null;
  }

  prompt(text: string): void {
    if (!this.tty || !this.rl) return;
    this.rl.setPrompt(text);
    this.rl.prompt(true);
  }

  print(text: string): void {
    this.log(text);
    const rl = this.rl;
    if (!this.tty || !rl) {
      this.out.write(`${text}\n`);
      return;
    }
    // The cursor may be several rows down a wrapped input line: go to where the prompt
    // starts, wipe prompt and input, print, and let readline redraw them underneath.
    const rows = rl.getCursorPos().rows;
    if (rows > 0) moveCursor(this.out, 0, -rows);
    cursorTo(this.out, 0);
    clearScreenDown(this.out);
    // readline's redraw first moves up by its own idea of how far down the input the cursor
    // is (`prevRows`, which goes stale when a paste wraps): blank rows give it exactly that
    // room below our line.
    const up = (rl as unknown as { prevRows?: number }).prevRows ?? rows;
    this.out.write(`${text}\n${'\n'.repeat(up)}`);
    rl.prompt(true);
  }

  /**
   * Wipes the line just submitted: on Enter readline moves past the prompt and its text
   * and leaves both on screen, above whatever is printed next.
   */
  retract(submitted: string): void {
    const rl = this.rl;
    if (!this.tty || !rl) return;
    // readline has written its newline: the cursor is on the row below the last row of the
    // prompt and text (a text ending exactly at the margin has forced one more row, blank).
    const rows = displayRows(rl, rl.getPrompt() + submitted);
    moveCursor(this.out, 0, -rows);
    cursorTo(this.out, 0);
    clearScreenDown(this.out);
  }

  /** Columns of the terminal, or no limit in a pipe. */
  width(): number {
    return this.tty && this.out.columns > 0 ? this.out.columns : Infinity;
  }

  /** A raw line for the transcript only (JSON mode prints its own output). */
  log(text: string): void {
    if (this.logFile)
      appendFileSync(this.logFile, `${new Date().toISOString()} ${text.replace(SGR, '')}\n`);
  }
}

/**
 * Rows that `text` takes on this readline's terminal, as readline itself counts them (wide
 * characters take two columns, a tab up to eight). Its measure is not public API; without
 * it, one column per UTF-16 unit is close enough for a name and a line of Latin text.
 */
function displayRows(rl: Interface, text: string): number {
  const measure = (rl as unknown as { _getDisplayPos?: (s: string) => { rows: number } })
    ._getDisplayPos;
  if (typeof measure === 'function') return measure.call(rl, text).rows + 1;
  const columns = (rl as unknown as { columns?: number }).columns ?? 80;
  return Math.floor(text.length / Math.max(1, columns)) + 1;
}
