/**
 * Structured logs with pino: JSON lines for machines, pretty lines when stdout is a terminal.
 */
import pino from 'pino';

export function createLogger(level: string): pino.Logger {
  const pretty = process.stdout.isTTY === true;
  return pino({
    level,
    base: undefined,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
          },
        }
      : {}),
  });
}
