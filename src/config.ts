/**
 * Server configuration from flags, PLUGBOARD_* environment variables and an optional JSON
 * config file, in that order of precedence, over the defaults. Every option is one entry
 * of a declarative table: the listeners and deployment settings here, the core's limits
 * in core/options.ts. Parsing, `serve --help` and the options table in
 * docs/operations.md (`npm run docs:options`) all come from these tables.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  coreOptions,
  defaultOptions,
  parseDefault,
  type OptionSpec,
  type ServerOptions,
} from './core/options.js';
import {
  AddressSetError,
  DEFAULT_LIMIT_EXEMPT,
  parseAddressSet,
  type AddressSet,
} from './transports/address-set.js';
import {
  derivedMaxConnections,
  descriptorReserve,
  openFileLimit,
} from './transports/descriptors.js';
import type { HttpTimeouts } from './transports/http.js';
import { CLOSE_LINGER_MS } from './transports/linger.js';
import { BusUrlError, isClusterBus, isRedisBus, parseClusterUrl } from './cluster/redis-url.js';

export interface ListenerPorts {
  line: number;
  framed: number;
  irc: number;
  ircTls: number;
  lineTls: number;
  framedTls: number;
  http: number;
  udp: number;
}

export interface ServerConfig {
  host: string;
  ports: ListenerPorts;
  dataDir: string;
  store: string;
  bus: string;
  /** Processes serving the ports (`--workers`, `auto` resolved); 1: no cluster. */
  workers: number;
  tlsCert: string | null;
  tlsKey: string | null;
  readyFile: string | null;
  logLevel: string;
  /** Origins allowed to open WebSocket sessions (empty: same host only). */
  wsOrigins: string[];
  /** Names the server is known by besides IP literals and localhost (WebSocket Origin). */
  publicHosts: string[];
  /** Addresses the per-address connection limits do not apply to (--limit-exempt). */
  limitExempt: AddressSet;
  /** The HTTP listener's own connection limits and timeouts. */
  http: { maxConnections: number; maxPerIp: number; timeouts: HttpTimeouts };
  /**
   * The open-file limit, the descriptors kept from the chat listeners, and whether
   * --max-connections was derived from them (not given).
   */
  descriptors: { limit: number | null; reserve: number; derived: boolean };
  /** How long a server-closed socket waits for its peer before it is destroyed. */
  closeLingerMs: number;
  /** WebSocket keepalive: a ping every this many ms; no pong by the next closes it. */
  wsKeepaliveMs: number;
  /** Read operator commands from stdin when it is a terminal. */
  console: boolean;
  backlog: number;
  /** Silence before the kernel probes a TCP peer (each connection draws from [this, 2×this)); 0: no probes. */
  tcpKeepaliveMs: number;
  udp: {
    rate: number;
    byteRate: number;
    maxSources: number;
    recvBufferSize: number;
    sendBufferSize: number;
  };
  /** Largest framed / WebSocket message, in bytes. */
  maxFrame: number;
  /** A cluster node's lease (ms): a node silent this long is cleaned up by the others. */
  nodeLeaseMs: number;
  /** The store's write queue: batch interval, batch size, most messages waiting. */
  storeQueue: { intervalMs: number; maxBatch: number; maxPending: number };
  options: ServerOptions;
}

type Spec = OptionSpec<ServerConfig>;

/** More would be a fork bomb by typo; a host with more cores runs several hosts' worth. */
const MAX_WORKERS = 256;

/** Buses that share one chat between processes (the Redis bus, server.ts createBus). */
export function isSharedBus(bus: string): boolean {
  return isRedisBus(bus);
}

const port = (flag: string, help: string, def: string, key: keyof ListenerPorts): Spec => ({
  flag,
  kind: 'int',
  min: -1,
  max: 65535,
  help,
  default: def,
  set: (c, v) => (c.ports[key] = v as number),
});

/** Listeners and deployment: what the composition root (server.ts) needs. */
export const configOptions: readonly Spec[] = [
  {
    flag: 'host',
    kind: 'string',
    help: 'address every listener binds to',
    default: '127.0.0.1',
    set: (c, v) => (c.host = v as string),
  },
  port('line-port', 'telnet/netcat line protocol (-1: off, 0: any free port)', '8008', 'line'),
  port('framed-port', 'length-prefixed JSON protocol', '8009', 'framed'),
  port('irc-port', 'IRC', '6667', 'irc'),
  port('irc-tls-port', 'IRC over TLS (needs --tls-cert/--tls-key)', '6697', 'ircTls'),
  port('line-tls-port', 'line protocol over TLS (needs TLS)', '8010', 'lineTls'),
  port('framed-tls-port', 'framed protocol over TLS (needs TLS)', '8011', 'framedTls'),
  port(
    'http-port',
    'web client, WebSocket /ws, /healthz, /metrics (HTTPS only when TLS is on)',
    '8080',
    'http',
  ),
  port('udp-port', 'UDP datagram echo', '23000', 'udp'),
  {
    flag: 'tls-cert',
    kind: 'string',
    help: 'PEM certificate file: turns on the TLS listeners and makes --http-port HTTPS',
    set: (c, v) => (c.tlsCert = (v as string) || null),
  },
  {
    flag: 'tls-key',
    kind: 'string',
    help: 'PEM private key file for --tls-cert',
    set: (c, v) => (c.tlsKey = (v as string) || null),
  },
  {
    flag: 'data-dir',
    kind: 'string',
    help: 'directory for the database and the admin socket',
    default: './data',
    set: (c, v) => (c.dataDir = v as string),
  },
  {
    flag: 'store',
    kind: 'string',
    help: "'sqlite' (file in --data-dir), 'memory', or a postgres:// URL",
    default: 'sqlite',
    set: (c, v) => (c.store = v as string),
  },
  {
    flag: 'bus',
    kind: 'string',
    help: "'local', a redis:// URL to share rooms between processes, or redis+cluster://HOST:PORT,HOST:PORT… for a Redis Cluster",
    default: 'local',
    set: (c, v) => (c.bus = v as string),
  },
  {
    flag: 'node-lease',
    kind: 'int',
    min: 2,
    max: 600,
    scale: 1000,
    help: "with a redis:// bus: seconds a node's lease lasts; a node silent that long has its users removed (renewed every third of it)",
    default: '10',
    set: (c, v) => (c.nodeLeaseMs = v as number),
  },
  {
    flag: 'workers',
    kind: 'string',
    help: "processes sharing the ports: a number, or 'auto' (one per core); more than 1 needs --bus redis://",
    default: '1',
    set: (c, v) => (c.workers = v === 'auto' ? availableParallelism() : Number(v)),
    check: (v) =>
      v === 'auto' || (/^[0-9]+$/.test(v as string) && Number(v) >= 1 && Number(v) <= MAX_WORKERS)
        ? null
        : `must be 'auto' or a whole number between 1 and ${MAX_WORKERS}`,
  },
  {
    flag: 'ready-file',
    kind: 'string',
    help: 'write {"listener": {"host", "port"}} JSON here once listening',
    set: (c, v) => (c.readyFile = (v as string) || null),
  },
  {
    flag: 'log-level',
    kind: 'string',
    help: 'fatal, error, warn, info, debug or silent',
    default: 'info',
    set: (c, v) => (c.logLevel = v as string),
    check: (v) =>
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v as string)
        ? null
        : 'must be fatal, error, warn, info, debug or silent',
  },
  {
    flag: 'ws-origin',
    kind: 'list',
    multiple: true,
    help: 'allowed WebSocket Origin (repeatable; default: same host, if a known name)',
    set: (c, v) => (c.wsOrigins = v as string[]),
  },
  {
    flag: 'public-host',
    kind: 'list',
    multiple: true,
    help: 'a DNS name this server is reached by, for the WebSocket Origin check (repeatable)',
    set: (c, v) => (c.publicHosts = v as string[]),
  },
  {
    flag: 'limit-exempt',
    kind: 'string',
    help: "CIDR ranges the per-address limits do not apply to ('none': no exemption)",
    default: DEFAULT_LIMIT_EXEMPT,
    set: (c, v) => (c.limitExempt = parseAddressSet(v as string)),
    check: (v) => {
      try {
        parseAddressSet(v as string);
        return null;
      } catch (err) {
        if (err instanceof AddressSetError) return err.message;
        throw err;
      }
    },
  },
  {
    flag: 'http-max-connections',
    kind: 'int',
    min: 1,
    help: 'simultaneous HTTP connections in all (WebSocket sessions count as chat)',
    default: '256',
    set: (c, v) => (c.http.maxConnections = v as number),
  },
  {
    flag: 'http-max-per-ip',
    kind: 'int',
    min: 1,
    help: 'simultaneous HTTP connections from one address',
    default: '32',
    set: (c, v) => (c.http.maxPerIp = v as number),
  },
  {
    flag: 'http-headers-timeout',
    kind: 'int',
    min: 1,
    max: 3600,
    scale: 1000,
    help: 'seconds an HTTP client has to send a request head',
    default: '10',
    set: (c, v) => (c.http.timeouts.headersMs = v as number),
  },
  {
    flag: 'http-request-timeout',
    kind: 'int',
    min: 1,
    max: 3600,
    scale: 1000,
    help: 'seconds for a whole HTTP request; also the longest an HTTP socket may stall',
    default: '30',
    set: (c, v) => (c.http.timeouts.requestMs = v as number),
  },
  {
    flag: 'http-keepalive-timeout',
    kind: 'int',
    min: 1,
    max: 3600,
    scale: 1000,
    help: 'seconds an idle HTTP keep-alive connection is kept',
    default: '5',
    set: (c, v) => (c.http.timeouts.keepAliveMs = v as number),
  },
  {
    flag: 'ws-keepalive',
    kind: 'int',
    min: 1,
    max: 3600,
    scale: 1000,
    help: 'WebSocket: seconds between pings; no pong by the next one closes the connection',
    default: '30',
    set: (c, v) => (c.wsKeepaliveMs = v as number),
  },
  {
    flag: 'max-frame',
    kind: 'int',
    min: 256,
    max: 16 * 1024 * 1024,
    help: 'largest framed-protocol / WebSocket message in bytes',
    default: '65536',
    set: (c, v) => (c.maxFrame = v as number),
  },
  {
    flag: 'tcp-keepalive',
    kind: 'int',
    min: 0,
    max: 3600,
    scale: 1000,
    help: 'silence (s) before TCP keepalive probes, spread up to 2x per connection (0: off)',
    default: '60',
    set: (c, v) => (c.tcpKeepaliveMs = v as number),
  },
  {
    flag: 'backlog',
    kind: 'int',
    min: 1,
    max: 65535,
    help: 'listen(2) backlog of every TCP listener',
    default: '511',
    set: (c, v) => (c.backlog = v as number),
  },
  {
    flag: 'udp-rate',
    kind: 'int',
    min: 1,
    help: 'UDP echo: datagrams per second per source address (excess dropped)',
    default: '100',
    set: (c, v) => (c.udp.rate = v as number),
  },
  {
    flag: 'udp-byte-rate',
    kind: 'int',
    min: 1,
    help: 'UDP echo: bytes per second per source address (excess dropped; burst at least 64 KiB)',
    default: '262144',
    set: (c, v) => (c.udp.byteRate = v as number),
  },
  {
    flag: 'udp-max-sources',
    kind: 'int',
    min: 1,
    max: 10_000_000,
    help: 'UDP echo: source addresses with their own limits at once (the rest share one)',
    default: '10000',
    set: (c, v) => (c.udp.maxSources = v as number),
  },
  {
    flag: 'udp-rcvbuf',
    kind: 'int',
    min: 0,
    help: 'UDP echo SO_RCVBUF in bytes (0: system default)',
    default: '0',
    set: (c, v) => (c.udp.recvBufferSize = v as number),
  },
  {
    flag: 'udp-sndbuf',
    kind: 'int',
    min: 0,
    help: 'UDP echo SO_SNDBUF in bytes (0: system default)',
    default: '0',
    set: (c, v) => (c.udp.sendBufferSize = v as number),
  },
  {
    flag: 'store-batch-interval',
    kind: 'int',
    min: 1,
    max: 10000,
    help: 'ms between the store write queue flushes (the crash window without --ack-after-commit)',
    default: '50',
    set: (c, v) => (c.storeQueue.intervalMs = v as number),
  },
  {
    flag: 'store-batch-size',
    kind: 'int',
    min: 1,
    max: 10000,
    help: 'most messages written in one store transaction',
    default: '500',
    set: (c, v) => (c.storeQueue.maxBatch = v as number),
  },
  {
    flag: 'store-max-pending',
    kind: 'int',
    min: 1,
    help: 'messages that may wait for the store before new ones are refused ("busy")',
    default: '50000',
    set: (c, v) => (c.storeQueue.maxPending = v as number),
  },
  {
    flag: 'no-console',
    kind: 'bool',
    help: 'do not read operator commands from a terminal on stdin',
    set: (c, v) => (c.console = !(v as boolean)),
  },
];

/** Both tables, as --help and the docs show them. */
export const allOptions: readonly (OptionSpec<ServerConfig> | OptionSpec<ServerOptions>)[] = [
  ...configOptions,
  ...coreOptions,
];

/** Flags that are not settings. */
const META = {
  config: { help: 'JSON config file (keys are these flag names)' },
  help: { help: 'show this help' },
};

function usage(spec: { flag: string; kind: string }): string {
  return spec.kind === 'bool' ? `--${spec.flag}` : `--${spec.flag} VALUE`;
}

export function serveHelp(): string {
  const lines = [
    'Usage: plugboard serve [options]',
    '',
    'Options (flag > PLUGBOARD_<NAME> env > --config file > default):',
  ];
  const row = (flag: string, help: string, def?: string): void => {
    lines.push(`  ${flag.padEnd(32)} ${help}${def !== undefined ? ` (default: ${def})` : ''}`);
  };
  for (const spec of allOptions) row(usage(spec), spec.help, spec.default);
  row('--config FILE', META.config.help);
  row('--help', META.help.help);
  lines.push(
    '',
    'Environment: e.g. PLUGBOARD_LINE_PORT=9000, PLUGBOARD_OPER="alice:secret,bob:pw".',
  );
  return lines.join('\n');
}

/** The options as a Markdown table (docs/operations.md is generated from it). */
export function optionsMarkdown(): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = ['| flag | environment | default | what it sets |', '| --- | --- | --- | --- |'];
  for (const spec of allOptions) {
    rows.push(
      `| \`${usage(spec)}\` | \`${envName(spec.flag)}\` | ${spec.default !== undefined ? `\`${esc(spec.default)}\`` : '—'} | ${esc(spec.help)}${bounds(spec)} |`,
    );
  }
  return rows.join('\n');
}

function bounds(spec: { min?: number; max?: number }): string {
  if (spec.min === undefined && spec.max === undefined) return '';
  if (spec.max === undefined) return ` (at least ${spec.min})`;
  if (spec.min === undefined) return ` (at most ${spec.max})`;
  return ` (${spec.min} to ${spec.max})`;
}

export class ConfigError extends Error {}

export function envName(flag: string): string {
  return 'PLUGBOARD_' + flag.toUpperCase().replace(/-/g, '_');
}

type Raw = string | string[] | boolean | undefined;

/** One flag's raw value: command line, then environment, then config file. */
function resolve(
  spec: { flag: string; kind: string; multiple?: boolean },
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown>,
): Raw {
  const fromFlag = flags[spec.flag];
  if (fromFlag !== undefined) return fromFlag as Raw;
  const fromEnv = env[envName(spec.flag)];
  if (fromEnv !== undefined) {
    if (spec.kind === 'bool') return fromEnv === '1' || fromEnv === 'true';
    return spec.multiple ? fromEnv.split(',').filter(Boolean) : fromEnv;
  }
  const fromFile = file[spec.flag];
  if (fromFile !== undefined) {
    if (spec.multiple) return (Array.isArray(fromFile) ? fromFile : [fromFile]).map(String);
    return spec.kind === 'bool' ? Boolean(fromFile) : String(fromFile);
  }
  return undefined;
}

/** Turns a raw value into what `set` takes, checking kind and bounds (in flag units). */
function convert<T>(spec: OptionSpec<T>, raw: Raw): number | string | boolean | string[] {
  const fail = (why: string): never => {
    throw new ConfigError(`--${spec.flag} ${why} (got "${String(raw)}")`);
  };
  let value: number | string | boolean | string[];
  switch (spec.kind) {
    case 'int':
    case 'number': {
      const n = Number(raw);
      const whole = spec.kind === 'int';
      if (
        typeof raw !== 'string' ||
        raw.trim() === '' ||
        !Number.isFinite(n) ||
        (whole && !Number.isInteger(n))
      ) {
        fail(`must be a ${whole ? 'whole number' : 'number'}${rangeText(spec)}`);
      }
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        fail(`must be a ${whole ? 'whole number' : 'number'}${rangeText(spec)}`);
      }
      value = n * (spec.scale ?? 1);
      break;
    }
    case 'bool':
      value = raw === true || raw === 'true' || raw === '1';
      break;
    case 'list':
      value = Array.isArray(raw) ? raw : String(raw).split(',').filter(Boolean);
      break;
    default:
      value = String(raw);
  }
  const problem = spec.check?.(value);
  if (problem) fail(problem);
  return value;
}

function rangeText(spec: { min?: number; max?: number }): string {
  if (spec.min !== undefined && spec.max !== undefined)
    return ` between ${spec.min} and ${spec.max}`;
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}`;
  return '';
}

function defaultConfig(): ServerConfig {
  return {
    host: '',
    ports: { line: 0, framed: 0, irc: 0, ircTls: 0, lineTls: 0, framedTls: 0, http: 0, udp: 0 },
    dataDir: '',
    store: '',
    bus: '',
    workers: 1,
    tlsCert: null,
    tlsKey: null,
    readyFile: null,
    logLevel: 'info',
    wsOrigins: [],
    publicHosts: [],
    limitExempt: parseAddressSet(DEFAULT_LIMIT_EXEMPT),
    http: {
      maxConnections: 0,
      maxPerIp: 0,
      timeouts: { headersMs: 0, requestMs: 0, keepAliveMs: 0 },
    },
    descriptors: { limit: null, reserve: 0, derived: false },
    closeLingerMs: CLOSE_LINGER_MS,
    wsKeepaliveMs: 0,
    console: true,
    backlog: 511,
    tcpKeepaliveMs: 0,
    udp: { rate: 0, byteRate: 0, maxSources: 0, recvBufferSize: 0, sendBufferSize: 0 },
    maxFrame: 0,
    nodeLeaseMs: 10_000,
    storeQueue: { intervalMs: 0, maxBatch: 0, maxPending: 0 },
    options: defaultOptions(),
  };
}

export function parseServeArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig | 'help' {
  const options: ParseArgsConfig['options'] = {
    config: { type: 'string' },
    help: { type: 'boolean' },
  };
  for (const spec of allOptions) {
    options[spec.flag] = {
      type: spec.kind === 'bool' ? 'boolean' : 'string',
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  // parseArgs refuses "--udp-port -1" (a value that looks like a flag); "-1" means "off"
  // for every port, so join negative numbers to their flag before parsing.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-\d+$/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const flags = parsed.values as Record<string, unknown>;
  if (flags.help) return 'help';
  let file: Record<string, unknown> = {};
  const configPath = (flags.config as string | undefined) ?? env.PLUGBOARD_CONFIG;
  if (configPath) {
    try {
      file = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`Cannot read config file ${configPath}: ${(err as Error).message}`);
    }
  }
  const config = defaultConfig();
  const apply = <T>(spec: OptionSpec<T>, target: T): void => {
    const raw = resolve(spec, flags, env, file);
    if (raw === undefined) {
      if (spec.default !== undefined) spec.set(target, parseDefault(spec));
      return;
    }
    spec.set(target, convert(spec, raw));
  };
  for (const spec of configOptions) apply(spec, config);
  for (const spec of coreOptions) apply(spec, config.options);
  if ((config.tlsCert === null) !== (config.tlsKey === null)) {
    throw new ConfigError('--tls-cert and --tls-key go together');
  }
  const t = config.http.timeouts;
  if (t.headersMs > t.requestMs) {
    throw new ConfigError('--http-headers-timeout must not be longer than --http-request-timeout');
  }
  // The chat listeners leave descriptors for HTTP (so /healthz answers when they are
  // full), the store and the rest: see transports/descriptors.ts. --max-connections
  // 'auto' arrives as 0 (core/options.ts).
  const limit = openFileLimit();
  const reserve = descriptorReserve(config.ports.http >= 0 ? config.http.maxConnections : 0);
  const derived = config.options.maxConnections === 0;
  if (derived) config.options.maxConnections = derivedMaxConnections(limit, reserve);
  config.descriptors = { limit, reserve, derived };
  // A cluster's node list is read here, so a typo stops the start with its reason.
  if (isClusterBus(config.bus)) {
    try {
      parseClusterUrl(config.bus);
    } catch (err) {
      if (err instanceof BusUrlError) throw new ConfigError(err.message);
      throw err;
    }
  }
  // Workers on the in-process bus would each be a chat of their own, and people would
  // meet only those the kernel happened to hand the same worker. The test switch lets
  // the process machinery (start, readiness, signals, restarts) be tested without Redis.
  if (
    config.workers > 1 &&
    !isSharedBus(config.bus) &&
    env.PLUGBOARD_TEST_UNSHARED_WORKERS !== '1'
  ) {
    throw new ConfigError(
      `--workers ${config.workers} needs a bus the workers share: give --bus redis://HOST:PORT ` +
        `(each worker on '--bus ${config.bus}' would be a separate chat; see docs/cluster.md)`,
    );
  }
  return config;
}
