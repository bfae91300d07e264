/**
 * Real terminal programs (nc, telnet, irssi, WeeChat, the terminal client) in tmux, read
 * back as their screens show them.
 *
 * Each `Tmux` is its own tmux server on a private socket (`tmux -L`), started with its own
 * configuration file (never ~/.tmux.conf), so tests in parallel and a developer's own tmux
 * never meet. Every pane has a fixed size and keeps its last screen when its program exits
 * (`remain-on-exit`), so what a client printed just before the server closed it can still
 * be read. Programs start with an empty environment apart from what is passed: a UTF-8
 * locale, a throwaway HOME, a known TERM.
 *
 * Waiting is polling the screen for a pattern with a deadline: never a fixed sleep.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const COLUMNS = 200;
export const ROWS = 50;
/** How long `waitFor` waits by default: generous, for a loaded 2-core machine. */
export const WAIT_MS = 20_000;
const POLL_MS = 100;

/** Our environment without $TMUX: run from inside someone's tmux, it names their server. */
const OUTSIDE_TMUX = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== 'TMUX' && k !== 'TMUX_PANE'),
);

const CONFIG = [
  'set -g remain-on-exit on',
  'set -g status off',
  // `screen` is in ncurses-base, so every Debian has its terminfo entry.
  'set -g default-terminal screen',
  `set -g default-size ${COLUMNS}x${ROWS}`,
  'set -g history-limit 10000',
  'set -g escape-time 0',
].join('\n');

/** Throws, naming the install script, when a program the tests drive is missing. */
export function requirePrograms(...names: string[]): void {
  const missing = names.filter((n) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', n], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run scripts/install-test-deps.sh`);
  }
}

export class Tmux {
  /** A scratch directory for this server: its config, and homes for the programs. */
  readonly dir: string;
  private readonly base: string[];
  private readonly panes: Pane[] = [];

  constructor(label: string) {
    this.dir = mkdtempSync(join(tmpdir(), `plugboard-tmux-${label}-`));
    const config = join(this.dir, 'tmux.conf');
    writeFileSync(config, CONFIG + '\n');
    const socket = `plugboard-${label}-${process.pid}-${Date.now().toString(36)}`;
    // -u: UTF-8 output whatever the test runner's locale is.
    this.base = ['-u', '-L', socket, '-f', config];
  }

  /** Runs one tmux command against this server; resolves to its standard output. */
  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', [...this.base, ...args], {
      encoding: 'utf8',
      timeout: 10_000,
      env: OUTSIDE_TMUX,
    });
    return stdout;
  }

  /** A new scratch directory inside this server's, e.g. a client's HOME. */
  scratch(name: string): string {
    return mkdtempSync(join(this.dir, `${name}-`));
  }

  /**
   * Starts `argv` (run directly, no shell) in a new session of its own. `env` is all the
   * program sees besides PATH, LANG/LC_ALL (C.UTF-8) and TERM.
   */
  async open(name: string, argv: string[], env: Record<string, string> = {}): Promise<Pane> {
    const vars = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TERM: 'screen',
      HOME: this.dir,
      ...env,
    };
    const assignments = Object.entries(vars).map(([k, v]) => `${k}=${v}`);
    await this.tmux(
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      String(COLUMNS),
      '-y',
      String(ROWS),
      'env',
      '-i',
      ...assignments,
      ...argv,
    );
    const pane = new Pane(this, name);
    this.panes.push(pane);
    return pane;
  }

  /**
   * Kills the tmux server, waits (bounded) until every program it ran has exited, so none
   * outlives the test or writes into the scratch directory as it goes, and removes it.
   */
  async close(): Promise<void> {
    let pids: number[] = [];
    try {
      const out = await this.tmux('list-panes', '-a', '-F', '#{pane_pid}');
      pids = out.split('\n').filter(Boolean).map(Number);
      await this.tmux('kill-server');
    } catch {
      // No server (never started, or its last session ended): nothing to kill.
    }
    const deadline = Date.now() + 5_000;
    while (pids.some(alive) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const pid of pids.filter(alive)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Exited since the check.
      }
    }
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }

  /** Every pane's screen, for a failing test's message. */
  async dump(): Promise<string> {
    const parts: string[] = [];
    for (const p of this.panes) {
      parts.push(`--- ${p.name} ---\n${await p.capture().catch((e: Error) => e.message)}`);
    }
    return parts.join('\n');
  }
}

/** Whether `pid` still runs (a zombie waiting for a parent that may never reap it: no). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export class Pane {
  constructor(
    private readonly tmux: Tmux,
    readonly name: string,
  ) {}

  /** `=name:` is exactly this session (a bare name would also match a longer one). */
  private get target(): string {
    return `=${this.name}:`;
  }

  /**
   * The pane's text: scrollback and the visible screen, each row without its trailing
   * blanks (full-screen programs pad rows with spaces), trailing empty rows dropped. Rows
   * tmux wrapped are joined back (-J); full-screen programs wrap their own rows.
   */
  async capture(): Promise<string> {
    const text = await this.tmux.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.target);
    return text
      .split('\n')
      .map((row) => row.trimEnd())
      .join('\n')
      .replace(/\n+$/, '');
  }

  /** Polls the screen until `pattern` matches; returns the screen. */
  async waitFor(pattern: RegExp | string, timeoutMs = WAIT_MS): Promise<string> {
    const matches = (s: string): boolean =>
      typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s);
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = await this.capture();
      if (matches(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: screen never showed ${String(pattern)}:\n${screen}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Types `text` literally, then Enter. */
  async type(text: string): Promise<void> {
    await this.tmux.tmux('send-keys', '-t', this.target, '-l', text);
    await this.tmux.tmux('send-keys', '-t', this.target, 'Enter');
  }

  /** Sends tmux key names (Enter, C-c, …). */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux.tmux('send-keys', '-t', this.target, ...keys);
  }

  /** Whether the program has exited (the pane stays, showing its last screen). */
  async dead(): Promise<boolean> {
    const out = await this.tmux.tmux('display-message', '-p', '-t', this.target, '#{pane_dead}');
    return out.trim() === '1';
  }
}
