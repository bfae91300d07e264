/**
 * Structured logs with pino: JSON lines for machines, pretty lines when stdout is a
 * terminal. With the operator console open, a log line must not land on top of the
 * `plugboard>` prompt: `aroundPrompt` clears the prompt line before each pretty line and
 * draws the prompt (and what was being typed) again after it.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import pretty from 'pino-pretty';

export interface PromptHooks {
  /** Called before a log line is written: clear the prompt line. */
  before(): void;
  /** Called after: draw the prompt again. */
  after(): void;
}

export function createLogger(level: string, aroundPrompt?: PromptHooks): pino.Logger {
  if (process.stdout.isTTY !== true) return pino({ level, base: undefined });
  const options = { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' };
  if (!aroundPrompt) {
    return pino({ level, base: undefined, transport: { target: 'pino-pretty', options } });
  }
  // Pretty-printed in this thread (not pino's worker), so the prompt can be kept clear.
  // pino-pretty pipes into its destination (pump), so it must be a real stream: an object
  // with only write() crashed the server at start on a terminal.
  const stream = pretty({
    ...options,
    sync: true,
    destination: new Writable({
      write(chunk: Buffer | string, _encoding, done): void {
        aroundPrompt.before();
        process.stdout.write(chunk);
        aroundPrompt.after();
        done();
      },
    }),
  });
  return pino({ level, base: undefined }, stream);
}
