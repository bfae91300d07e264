/**
 * Every limit the server enforces, with its default, in one declarative table. The table
 * is the single source: defaults come from it, src/config.ts parses flags, PLUGBOARD_*
 * environment variables and the config file with it, `serve --help` prints it, and the
 * options table in docs/operations.md is generated from it (a test fails when they drift).
 */

export interface ServerOptions {
  serverName: string;
  sendQueueBytes: number;
  maxLineBytes: number;
  floodBurst: number;
  floodRate: number;
  floodQueueLines: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  registrationTimeoutMs: number;
  idleTimeoutMs: number;
  historyRing: number;
  eventHistory: number;
  historyOnJoin: number;
  historyPageMax: number;
  searchPageMax: number;
  searchScan: number;
  searchQueryBytes: number;
  searchTermsMax: number;
  retentionMaxAgeMs: number;
  retentionMaxCount: number;
  retentionIntervalMs: number;
  /** How long a name's last reading position (`seen:<name>`) is kept (resume.ts). */
  seenKeepMs: number;
  /**
   * After a rename, how long a join of the old name is led to the new one (IRC with
   * draft/channel-rename: `FAIL JOIN CHANNEL_RENAMED`); 0: never (rename.ts).
   */
  renameGraceMs: number;
  /** How soon a room operator may rename a room again (a change of case excepted). */
  renameCooldownMs: number;
  topicLength: number;
  nameLength: number;
  roomNameLength: number;
  maxRoomsPerUser: number;
  maxMessageBytes: number;
  maxBansPerRoom: number;
  rosterDigestThreshold: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  shutdownGraceMs: number;
  defaultRoom: string;
  opers: Map<string, string>;
  password: string | null;
  motd: string[];
  whowasLimit: number;
  realnameLength: number;
  watchLimit: number;
  ircMaxTargets: number;
  ircMaxModes: number;
  ackAfterCommit: boolean;
  accountGraceMs: number;
  nameHoldMs: number;
  resumeLimit: number;
  minPasswordLength: number;
  loginBurst: number;
  loginPerMinute: number;
  registerBurst: number;
  registerPerMinute: number;
  hashConcurrency: number;
  hashQueue: number;
}

/**
 * The longest resume token accepted (resume-token.ts): more than any token the server makes
 * (50 rooms of 50 characters and an id each, in base64), and a bound for the schema.
 */
export const MAX_TOKEN_LENGTH = 16_384;

/** How a flag's text becomes a value. */
export type OptionKind = 'int' | 'number' | 'string' | 'bool' | 'list';

/**
 * One option: its flag (also the config-file key; the environment variable is
 * `PLUGBOARD_` + the flag in capitals with `_` for `-`), how to read it, its bounds and
 * default in the flag's own unit, and `scale` to turn that unit into the stored one.
 */
export interface OptionSpec<Target> {
  flag: string;
  kind: OptionKind;
  help: string;
  /** As written on the command line; undefined: not set unless given. */
  default?: string;
  min?: number;
  max?: number;
  /** Flag unit → stored unit (seconds → ms: 1000). */
  scale?: number;
  /** A flag given several times (or a comma list in the environment). */
  multiple?: boolean;
  /** Stores the parsed value. */
  set(target: Target, value: number | string | boolean | string[]): void;
  /** Whether a value is fine beyond its bounds (a message, or null). */
  check?(value: number | string | boolean | string[]): string | null;
}

type Spec = OptionSpec<ServerOptions>;

const num =
  <
    K extends {
      [P in keyof ServerOptions]: ServerOptions[P] extends number ? P : never;
    }[keyof ServerOptions],
  >(
    key: K,
  ) =>
  (o: ServerOptions, v: number | string | boolean | string[]): void => {
    o[key] = v as number;
  };

/** The core's options, in the order `--help` shows them. */
export const coreOptions: readonly Spec[] = [
  {
    flag: 'server-name',
    kind: 'string',
    help: 'the name the server gives itself in every protocol',
    default: 'plugboard.local',
    set: (o, v) => (o.serverName = v as string),
  },
  {
    flag: 'password',
    kind: 'string',
    help: 'connection password required before choosing a name (IRC PASS)',
    set: (o, v) => (o.password = v === '' ? null : (v as string)),
  },
  {
    flag: 'oper',
    kind: 'list',
    multiple: true,
    help: 'server operator NAME:PASSWORD (repeatable)',
    set: (o, v) => {
      for (const entry of v as string[]) {
        const i = entry.indexOf(':');
        o.opers.set(entry.slice(0, i), entry.slice(i + 1));
      }
    },
    check: (v) =>
      (v as string[]).some((e) => e.indexOf(':') <= 0) ? 'must be NAME:PASSWORD' : null,
  },
  {
    flag: 'default-room',
    kind: 'string',
    help: 'the room everyone lands in after choosing a name',
    default: '#lobby',
    set: (o, v) => (o.defaultRoom = v as string),
    check: (v) =>
      /^#[^\s,:\x00-\x1f\x7f]{1,49}$/.test(v as string) ? null : 'must be a room name like #lobby',
  },
  {
    flag: 'motd',
    kind: 'string',
    help: 'message of the day, lines separated by |',
    default: 'Welcome to Plugboard.|Be kind. Type /help for commands.',
    set: (o, v) =>
      (o.motd = (v as string)
        .split('|')
        .map((l) => l.trim())
        .filter(Boolean)),
  },
  {
    flag: 'send-queue',
    kind: 'int',
    min: 1024,
    help: 'bytes that may wait for one connection before it is closed (slow reader)',
    default: '262144',
    set: num('sendQueueBytes'),
  },
  {
    flag: 'max-line',
    kind: 'int',
    min: 64,
    max: 65536,
    help: 'most bytes of text one line-protocol line may say (never more than --max-message)',
    default: '4000',
    set: num('maxLineBytes'),
  },
  {
    flag: 'max-message',
    kind: 'int',
    min: 64,
    max: 65536,
    help: 'longest message text in bytes (longer text is cut, never split)',
    default: '4000',
    set: num('maxMessageBytes'),
  },
  {
    flag: 'flood-burst',
    kind: 'int',
    min: 1,
    help: 'flood control: lines allowed in a burst',
    default: '10',
    set: num('floodBurst'),
  },
  {
    flag: 'flood-rate',
    kind: 'number',
    min: 0,
    help: 'flood control: lines per second after the burst (0: off)',
    default: '2',
    set: num('floodRate'),
  },
  {
    flag: 'flood-queue',
    kind: 'int',
    min: 1,
    max: 10000,
    help: 'flood control: lines that may wait before further ones are dropped',
    default: '20',
    set: num('floodQueueLines'),
  },
  {
    flag: 'max-connections',
    kind: 'string',
    help: 'simultaneous chat connections in all (auto: the open-file limit less a reserve)',
    default: 'auto',
    // 'auto' is stored as 0: src/config.ts derives it from the open-file limit.
    set: (o, v) => (o.maxConnections = v === 'auto' ? 0 : Number(v)),
    check: (v) =>
      v === 'auto' || (/^\d+$/.test(v as string) && Number(v) >= 1)
        ? null
        : "must be 'auto' or a whole number of at least 1",
  },
  {
    flag: 'max-per-ip',
    kind: 'int',
    min: 1,
    help: 'simultaneous chat connections from one address (see --limit-exempt)',
    default: '20',
    set: num('maxConnectionsPerIp'),
  },
  {
    flag: 'registration-timeout',
    kind: 'int',
    min: 0,
    scale: 1000,
    help: 'seconds to choose a name before being disconnected (0: never)',
    default: '60',
    set: num('registrationTimeoutMs'),
  },
  {
    flag: 'idle-timeout',
    kind: 'int',
    min: 0,
    scale: 1000,
    help: 'seconds without input before disconnecting (0: never)',
    default: '0',
    set: num('idleTimeoutMs'),
  },
  {
    flag: 'ping-interval',
    kind: 'int',
    min: 0,
    scale: 1000,
    help: 'IRC: seconds of silence before the server sends PING (0: never)',
    default: '120',
    set: num('pingIntervalMs'),
  },
  {
    flag: 'ping-timeout',
    kind: 'int',
    min: 1,
    scale: 1000,
    help: 'IRC: seconds to answer that PING before "Ping timeout"',
    default: '60',
    set: num('pingTimeoutMs'),
  },
  {
    flag: 'shutdown-grace',
    kind: 'number',
    min: 0,
    max: 600,
    scale: 1000,
    help: 'seconds shutdown waits for queued output to drain before closing',
    default: '3',
    set: num('shutdownGraceMs'),
  },
  {
    flag: 'history-on-join',
    kind: 'int',
    min: 0,
    max: 1000,
    help: 'messages replayed when joining a room',
    default: '10',
    set: num('historyOnJoin'),
  },
  {
    flag: 'history-page',
    kind: 'int',
    min: 1,
    max: 10000,
    help: 'most messages one history request returns (JSON history, IRC CHATHISTORY)',
    default: '500',
    set: num('historyPageMax'),
  },
  {
    flag: 'search-page',
    kind: 'int',
    min: 1,
    max: 500,
    help: 'most messages one search returns (a page; the person asks for the next)',
    default: '50',
    set: num('searchPageMax'),
  },
  {
    flag: 'search-scan',
    kind: 'int',
    min: 10,
    max: 100000,
    help: "most matches one search looks at, in any room (bounds each search's work)",
    default: '2000',
    set: num('searchScan'),
  },
  {
    flag: 'search-length',
    kind: 'int',
    min: 1,
    max: 4000,
    help: 'most bytes of text one search may have',
    default: '200',
    set: num('searchQueryBytes'),
  },
  {
    flag: 'search-words',
    kind: 'int',
    min: 1,
    max: 32,
    help: 'most different words one search may have (all must match)',
    default: '8',
    set: num('searchTermsMax'),
  },
  {
    flag: 'history-ring',
    kind: 'int',
    min: 1,
    help: "messages kept per room by '--store memory'",
    default: '200',
    set: num('historyRing'),
  },
  {
    flag: 'event-history',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    help: 'room events (joins, parts, topics, reactions...) kept per room for IRC event playback (0: none)',
    default: '1000',
    set: num('eventHistory'),
  },
  {
    flag: 'retention-days',
    kind: 'int',
    min: 0,
    scale: 86_400_000,
    help: 'delete history older than this many days (0: keep forever)',
    default: '0',
    set: num('retentionMaxAgeMs'),
  },
  {
    flag: 'retention-count',
    kind: 'int',
    min: 0,
    help: 'keep at most this many messages per room (0: all)',
    default: '0',
    set: num('retentionMaxCount'),
  },
  {
    flag: 'retention-interval',
    kind: 'int',
    min: 1,
    scale: 1000,
    help: 'seconds between retention passes',
    default: '600',
    set: num('retentionIntervalMs'),
  },
  {
    flag: 'seen-days',
    kind: 'int',
    min: 1,
    scale: 86_400_000,
    help: 'days a name\'s last reading position is kept for its return (line protocol: "you missed"), at most --retention-days',
    default: '30',
    set: num('seenKeepMs'),
  },
  {
    flag: 'rename-grace',
    kind: 'int',
    min: 0,
    scale: 1000,
    help: 'seconds after a room rename during which joining the old name leads to the new one (0: never)',
    default: '600',
    set: num('renameGraceMs'),
  },
  {
    flag: 'rename-cooldown',
    kind: 'int',
    min: 0,
    scale: 1000,
    help: 'seconds before a room operator may rename a room again (a change of case, server operators excepted)',
    default: '60',
    set: num('renameCooldownMs'),
  },
  {
    flag: 'ack-after-commit',
    kind: 'bool',
    help: 'acknowledge a message only once the store has committed it (slower, no crash window)',
    set: (o, v) => (o.ackAfterCommit = v as boolean),
  },
  {
    flag: 'name-length',
    kind: 'int',
    min: 9,
    max: 64,
    help: 'longest name (IRC NICKLEN)',
    default: '30',
    set: num('nameLength'),
  },
  {
    flag: 'room-name-length',
    kind: 'int',
    min: 2,
    max: 200,
    help: "longest room name, with the '#' (IRC CHANNELLEN)",
    default: '50',
    set: num('roomNameLength'),
  },
  {
    flag: 'topic-length',
    kind: 'int',
    min: 16,
    max: 4000,
    help: 'longest topic, away text or reason in bytes (IRC TOPICLEN, AWAYLEN, KICKLEN)',
    default: '390',
    set: num('topicLength'),
  },
  {
    flag: 'max-rooms',
    kind: 'int',
    min: 1,
    max: 10000,
    help: 'most rooms one person may be in (IRC CHANLIMIT)',
    default: '50',
    set: num('maxRoomsPerUser'),
  },
  {
    flag: 'max-bans',
    kind: 'int',
    min: 1,
    max: 10000,
    help: 'most bans one room may hold (IRC MAXLIST)',
    default: '100',
    set: num('maxBansPerRoom'),
  },
  {
    flag: 'roster-digest',
    kind: 'int',
    min: 1,
    help: 'rooms with more members show joins and parts as a digest (line protocol)',
    default: '50',
    set: num('rosterDigestThreshold'),
  },
  {
    flag: 'whowas',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    help: 'names remembered for IRC WHOWAS',
    default: '2000',
    set: num('whowasLimit'),
  },
  {
    flag: 'realname-length',
    kind: 'int',
    min: 1,
    max: 390,
    help: 'longest realname in bytes (IRC USER and SETNAME)',
    default: '100',
    set: num('realnameLength'),
  },
  {
    flag: 'watch-limit',
    kind: 'int',
    min: 0,
    max: 10000,
    help: 'names one person may watch for coming and going (IRC MONITOR)',
    default: '100',
    set: num('watchLimit'),
  },
  {
    flag: 'irc-max-targets',
    kind: 'int',
    min: 1,
    max: 100,
    help: 'IRC: targets per PRIVMSG, NOTICE, KICK (ISUPPORT MAXTARGETS)',
    default: '4',
    set: num('ircMaxTargets'),
  },
  {
    flag: 'irc-max-modes',
    kind: 'int',
    min: 1,
    max: 100,
    help: 'IRC: mode changes with a parameter per MODE (ISUPPORT MODES)',
    default: '6',
    set: num('ircMaxModes'),
  },
  {
    flag: 'name-grace',
    kind: 'int',
    min: 1,
    scale: 1000,
    help: 'seconds someone using a registered name has to identify before being renamed',
    default: '60',
    set: num('accountGraceMs'),
  },
  {
    flag: 'name-hold',
    kind: 'int',
    min: 0,
    max: 86400,
    scale: 1000,
    help: 'seconds a name stays held for its person after a dropped connection or a shutdown (0: off)',
    default: '120',
    set: num('nameHoldMs'),
  },
  {
    flag: 'resume-limit',
    kind: 'int',
    min: 1,
    max: 10000,
    help: 'most messages replayed per room on a resume or /since (a longer gap is announced)',
    default: '500',
    set: num('resumeLimit'),
  },
  {
    flag: 'min-password',
    kind: 'int',
    min: 1,
    max: 256,
    help: 'shortest account password',
    default: '6',
    set: num('minPasswordLength'),
  },
  {
    flag: 'login-burst',
    kind: 'int',
    min: 1,
    help: 'login and OPER attempts allowed in a burst per address',
    default: '5',
    set: num('loginBurst'),
  },
  {
    flag: 'login-rate',
    kind: 'number',
    min: 0.01,
    help: 'login and OPER attempts per minute per address after the burst',
    default: '5',
    set: num('loginPerMinute'),
  },
  {
    flag: 'register-burst',
    kind: 'int',
    min: 1,
    help: 'account registrations allowed in a burst per address',
    default: '3',
    set: num('registerBurst'),
  },
  {
    flag: 'register-rate',
    kind: 'number',
    min: 0.01,
    help: 'account registrations per minute per address after the burst',
    default: '2',
    set: num('registerPerMinute'),
  },
  {
    flag: 'hash-concurrency',
    kind: 'int',
    min: 1,
    max: 64,
    help: 'password hashes (scrypt) computed at once; the rest wait',
    default: '2',
    set: num('hashConcurrency'),
  },
  {
    flag: 'hash-queue',
    kind: 'int',
    min: 0,
    max: 100000,
    help: 'password hashes that may wait before further logins are refused as busy',
    default: '100',
    set: num('hashQueue'),
  },
];

/** The options with every default applied. */
export function defaultOptions(): ServerOptions {
  const o = {
    opers: new Map<string, string>(),
    password: null,
    ackAfterCommit: false,
  } as unknown as ServerOptions;
  for (const spec of coreOptions) {
    if (spec.default === undefined) continue;
    spec.set(o, parseDefault(spec));
  }
  return o;
}

/** A spec's default as the value `set` takes. */
export function parseDefault<T>(spec: OptionSpec<T>): number | string | boolean | string[] {
  const d = spec.default as string;
  switch (spec.kind) {
    case 'int':
    case 'number':
      return Number(d) * (spec.scale ?? 1);
    case 'bool':
      return d === 'true';
    case 'list':
      return d.split(',').filter(Boolean);
    default:
      return d;
  }
}
