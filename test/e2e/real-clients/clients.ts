/**
 * The real programs people connect with, each started in tmux against a real
 * `plugboard serve` child process, with what each shows for a message, so tests can say
 * "bob's screen shows carol's line" in each client's own words.
 *
 * irssi and WeeChat get a throwaway home, a config that names only our server, no
 * scripts and no plugins beyond IRC, no auto-reconnect: nothing of the machine's user is
 * read and nothing reaches the network.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, spawnServer, type ServerProcess } from '../../helpers/process.js';
import { requirePrograms, type Pane, type Tmux } from '../../helpers/tmux.js';

export const PROGRAMS = ['tmux', 'nc', 'telnet', 'irssi', 'weechat'];

export type Kind = 'nc' | 'telnet' | 'irssi' | 'weechat' | 'terminal';

/** Test text only ever goes into patterns escaped (no pattern is built from raw text). */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface Chatter {
  kind: Kind;
  name: string;
  pane: Pane;
  /** Says `text` in the current room (types it and presses Enter). */
  say(text: string): Promise<void>;
  /** How this client's screen shows `from` saying `text` in the current room. */
  lineFrom(from: string, text: string): RegExp;
  /** How it shows that line replayed from history when it joins. */
  replayedFrom(from: string, text: string): RegExp;
  /** The heading it shows before `n` replayed lines of #lobby. */
  replayHeading(n: number): RegExp;
}

/**
 * A server child process with every TCP chat listener on a free port and nothing else,
 * real SQLite history in its data directory, and no flood delay (the tests type fast).
 */
export async function startChatServer(extra: string[] = []): Promise<ServerProcess> {
  requirePrograms(...PROGRAMS);
  return spawnServer([
    '--line-port',
    '0',
    '--framed-port',
    '0',
    '--irc-port',
    '0',
    ...['--irc-tls-port', '-1', '--line-tls-port', '-1', '--framed-tls-port', '-1'],
    ...['--http-port', '-1', '--udp-port', '-1', '--flood-rate', '0'],
    ...extra,
  ]);
}

export function portOf(server: ServerProcess, listener: string): number {
  const a = server.ports[listener];
  if (!a) throw new Error(`no ${listener} listener`);
  return a.port;
}

/** SIGTERM, then the exit code (0 for a clean shutdown). */
export async function stopServer(server: ServerProcess): Promise<number | null> {
  server.child.kill('SIGTERM');
  return server.exited;
}

/** Kills what is left after a failure; harmless after a clean stop. */
export function killServer(server: ServerProcess | undefined): void {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
  }
}

const clock = String.raw`\d\d:\d\d`;

/** `[HH:MM] <from> text`: the line protocol's and the terminal client's message line. */
function plainLine(from: string, text: string): RegExp {
  return new RegExp(`\\[${clock}\\] <${escapeRegExp(from)}> ${escapeRegExp(text)}`);
}

/** The line protocol's and the terminal client's heading before history. */
function plainHeading(n: number): RegExp {
  return new RegExp(`^\\* Last ${n} messages? in #lobby:$`, 'm');
}

/**
 * What the server says before history to IRC clients without batch (issue 16 #3), as a
 * client shows it after its own prefix (`!server` in irssi, `Notice(server):` in WeeChat).
 */
function ircHeading(prefix: string): (n: number) => RegExp {
  return (n) =>
    new RegExp(
      `${prefix}Last ${n} messages? in #lobby, since \\d{4}-\\d\\d-\\d\\d ${clock} \\(server time\\):$`,
      'm',
    );
}

/** nc or telnet on the line protocol: answers the name prompt, waits for the welcome. */
export async function lineClient(
  tmux: Tmux,
  kind: 'nc' | 'telnet',
  name: string,
  port: number,
): Promise<Chatter> {
  // Plain `nc HOST PORT` and `telnet HOST PORT`, as the README tells people to type.
  const pane = await tmux.open(`${kind}-${name}`, [kind, '127.0.0.1', String(port)]);
  await pane.waitFor(/Choose a name:$/m);
  await pane.type(name);
  await pane.waitFor(`* Welcome, ${name}!`);
  return {
    kind,
    name,
    pane,
    say: (t) => pane.type(t),
    lineFrom: plainLine,
    replayedFrom: plainLine,
    replayHeading: plainHeading,
  };
}

/** `plugboard connect` (framed JSON protocol) in a terminal, no colours, no reconnect. */
export async function terminalClient(tmux: Tmux, name: string, port: number): Promise<Chatter> {
  const pane = await tmux.open(`terminal-${name}`, [
    process.execPath,
    CLI,
    'connect',
    `127.0.0.1:${port}`,
    '--name',
    name,
    '--no-color',
    '--no-reconnect',
  ]);
  await pane.waitFor(`* You joined #lobby`);
  return {
    kind: 'terminal',
    name,
    pane,
    say: (t) => pane.type(t),
    lineFrom: plainLine,
    replayedFrom: plainLine,
    replayHeading: plainHeading,
  };
}

/**
 * irssi 1.4 with its own --home: a config with our identity and no servers or chatnets
 * (so Debian's /etc/irssi.conf is not read), no scripts; it connects with -c and then
 * joins #lobby as a user would.
 */
export async function irssiClient(tmux: Tmux, nick: string, port: number): Promise<Chatter> {
  const home = tmux.scratch(`irssi-${nick}`);
  writeFileSync(
    join(home, 'config'),
    [
      'settings = {',
      `  core = { real_name = "${nick}"; user_name = "${nick}"; nick = "${nick}"; };`,
      // The MOTD would only push the lines the tests read off the status window.
      '  "irc/core" = { skip_motd = "yes"; };',
      '};',
      '',
    ].join('\n'),
  );
  const pane = await tmux.open(
    `irssi-${nick}`,
    ['irssi', `--home=${home}`, '-c', '127.0.0.1', '-p', String(port), '-n', nick],
    { HOME: home },
  );
  await pane.waitFor(`Welcome to the Plugboard IRC Network ${nick}!`);
  await pane.type('/join #lobby');
  await pane.waitFor(new RegExp(`-!- ${escapeRegExp(nick)} \\[\\S+\\] has joined #lobby`));
  return {
    kind: 'irssi',
    name: nick,
    pane,
    say: (t) => pane.type(t),
    // `12:34 <@alice> text`: the nick column carries the mode (@, + or a space).
    lineFrom: (from, text) =>
      new RegExp(`${clock} <[@+ ]?${escapeRegExp(from)}> ${escapeRegExp(text)}`),
    // irssi shows when a line arrived, so the original time is in the text.
    replayedFrom: (from, text) =>
      new RegExp(`${clock} <[@+ ]?${escapeRegExp(from)}> \\[${clock}\\] ${escapeRegExp(text)}`),
    replayHeading: ircHeading(`${clock} !plugboard\\.local `),
  };
}

/**
 * WeeChat 3.8 in its curses interface (weechat-headless has no screen to read) with its
 * own --dir, only the IRC plugin (-P irc: no scripts, spelling, relay or xfer), no nick
 * list (so the buffer is full width), one server added with autojoin and without
 * auto-reconnect.
 */
export async function weechatClient(tmux: Tmux, nick: string, port: number): Promise<Chatter> {
  const home = tmux.scratch(`weechat-${nick}`);
  const commands = [
    '/set weechat.startup.display_logo off',
    '/set weechat.startup.display_version off',
    '/bar hide nicklist',
    `/server add pb 127.0.0.1/${port} -notls -nicks=${nick} -username=${nick} -realname=${nick} -autojoin=#lobby -noautoreconnect`,
    '/connect pb',
  ].join(';');
  const pane = await tmux.open(
    `weechat-${nick}`,
    ['weechat', '-d', home, '-P', 'irc', '-r', commands],
    { HOME: home },
  );
  await pane.waitFor(new RegExp(`--> \\| ${escapeRegExp(nick)} \\(.*\\) has joined #lobby`));
  return {
    kind: 'weechat',
    name: nick,
    pane,
    say: (t) => pane.type(t),
    // `12:34:56 @alice | text`: prefix column right-aligned, then a bar.
    lineFrom: (from, text) =>
      new RegExp(`${clock}:\\d\\d +[@+]?${escapeRegExp(from)} \\| ${escapeRegExp(text)}`),
    // WeeChat shows server-time, and the text carries the time as well.
    replayedFrom: (from, text) =>
      new RegExp(
        `${clock}:\\d\\d +[@+]?${escapeRegExp(from)} \\| \\[${clock}\\] ${escapeRegExp(text)}`,
      ),
    replayHeading: ircHeading(`-- \\| Notice\\(plugboard\\.local\\): `),
  };
}

/** Runs `step`; if it fails, the error also shows every pane's screen. */
export async function onScreens<T>(tmux: Tmux, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message += `\n\nScreens:\n${await tmux.dump()}`;
    throw e;
  }
}

/** How many times `needle` occurs in `haystack`, ignoring case. */
export function occurrences(haystack: string, needle: string): number {
  return haystack.toLowerCase().split(needle.toLowerCase()).length - 1;
}
