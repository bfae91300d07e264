/**
 * Server configuration from flags, PLUGBOARD_* environment variables and an optional JSON
 * config file, in that order of precedence, over the defaults in core/options.ts.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultOptions, type ServerOptions } from './core/options.js';

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
  tlsCert: string | null;
  tlsKey: string | null;
  readyFile: string | null;
  logLevel: string;
  /** Origins allowed to open WebSocket sessions (empty: same host only). */
  wsOrigins: string[];
  /** Read operator commands from stdin when it is a terminal. */
  console: boolean;
  backlog: number;
  /** Silence before the kernel probes a TCP peer (each connection draws from [this, 2×this)); 0: no probes. */
  tcpKeepaliveMs: number;
  udp: { rate: number; byteRate: number; recvBufferSize: number; sendBufferSize: number };
  /** Largest framed / WebSocket message, in bytes. */
  maxFrame: number;
  options: ServerOptions;
}

interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  help: string;
  default?: string;
}

/** Every `serve` flag, documented once: --help prints this table. */
export const serveFlags: Record<string, FlagSpec> = {
  host: { type: 'string', help: 'address every listener binds to', default: '127.0.0.1' },
  'line-port': {
    type: 'string',
    help: 'telnet/netcat line protocol (-1: off, 0: any free port)',
    default: '8008',
  },
  'framed-port': { type: 'string', help: 'length-prefixed JSON protocol', default: '8009' },
  'irc-port': { type: 'string', help: 'IRC', default: '6667' },
  'irc-tls-port': {
    type: 'string',
    help: 'IRC over TLS (needs --tls-cert/--tls-key)',
    default: '6697',
  },
  'line-tls-port': { type: 'string', help: 'line protocol over TLS (needs TLS)', default: '8010' },
  'framed-tls-port': {
    type: 'string',
    help: 'framed protocol over TLS (needs TLS)',
    default: '8011',
  },
  'http-port': {
    type: 'string',
    help: 'web client, WebSocket /ws, /healthz, /metrics',
    default: '8080',
  },
  'udp-port': { type: 'string', help: 'UDP datagram echo', default: '23000' },
  'udp-rate': {
    type: 'string',
    help: 'UDP echo: datagrams per second per source address (excess dropped)',
    default: '100',
  },
  'udp-byte-rate': {
    type: 'string',
    help: 'UDP echo: bytes per second per source address (excess dropped; burst at least 64 KiB)',
    default: '262144',
  },
  'udp-rcvbuf': {
    type: 'string',
    help: 'UDP echo SO_RCVBUF in bytes (0: system default)',
    default: '0',
  },
  'udp-sndbuf': {
    type: 'string',
    help: 'UDP echo SO_SNDBUF in bytes (0: system default)',
    default: '0',
  },
  'tls-cert': { type: 'string', help: 'PEM certificate file: turns on the TLS listeners' },
  'tls-key': { type: 'string', help: 'PEM private key file for --tls-cert' },
  'data-dir': {
    type: 'string',
    help: 'directory for the database and the admin socket',
    default: './data',
  },
  config: { type: 'string', help: 'JSON config file (keys are these flag names)' },
  store: {
    type: 'string',
    help: "'sqlite' (file in --data-dir), 'memory', or a postgres:// URL",
    default: 'sqlite',
  },
  bus: {
    type: 'string',
    help: "'local', or a redis:// URL to share rooms between processes",
    default: 'local',
  },
  'server-name': {
    type: 'string',
    help: 'the name the server gives itself in every protocol',
    default: 'plugboard.local',
  },
  oper: { type: 'string', multiple: true, help: 'server operator NAME:PASSWORD (repeatable)' },
  password: {
    type: 'string',
    help: 'connection password required before choosing a name (IRC PASS)',
  },
  'send-queue': {
    type: 'string',
    help: 'pending outbound bytes per connection before eviction',
    default: '262144',
  },
  'max-frame': {
    type: 'string',
    help: 'largest framed-protocol / WebSocket message in bytes',
    default: '65536',
  },
  'max-line': { type: 'string', help: 'longest line protocol line in bytes', default: '4096' },
  'flood-burst': { type: 'string', help: 'flood control: lines allowed in a burst', default: '10' },
  'flood-rate': {
    type: 'string',
    help: 'flood control: lines per second after the burst (0: off)',
    default: '2',
  },
  'max-connections': { type: 'string', help: 'simultaneous connections in all', default: '100000' },
  'max-per-ip': {
    type: 'string',
    help: 'simultaneous connections from one address',
    default: '100000',
  },
  'tcp-keepalive': {
    type: 'string',
    help: 'silence (s) before TCP keepalive probes, spread up to 2x per connection (0: off)',
    default: '60',
  },
  'registration-timeout': {
    type: 'string',
    help: 'seconds to choose a name before being disconnected',
    default: '60',
  },
  'idle-timeout': {
    type: 'string',
    help: 'seconds without input before disconnecting (0: never)',
    default: '0',
  },
  'history-on-join': {
    type: 'string',
    help: 'messages replayed when joining a room',
    default: '10',
  },
  'retention-days': {
    type: 'string',
    help: 'delete history older than this many days (0: keep forever)',
    default: '0',
  },
  'retention-count': {
    type: 'string',
    help: 'keep at most this many messages per room (0: all)',
    default: '0',
  },
  'ack-after-commit': {
    type: 'boolean',
    help: 'acknowledge a message only once history committed it (closes the crash window; acks up to 50 ms slower)',
  },
  'ws-origin': {
    type: 'string',
    multiple: true,
    help: 'allowed WebSocket Origin (repeatable; default: same host)',
  },
  'ready-file': {
    type: 'string',
    help: 'write {"listener": {"host", "port"}} JSON here once listening',
  },
  'log-level': {
    type: 'string',
    help: 'fatal, error, warn, info, debug or silent',
    default: 'info',
  },
  'no-console': { type: 'boolean', help: 'do not read operator commands from a terminal on stdin' },
  help: { type: 'boolean', help: 'show this help' },
};

export function serveHelp(): string {
  const lines = [
    'Usage: plugboard serve [options]',
    '',
    'Options (flag > PLUGBOARD_<NAME> env > --config file > default):',
  ];
  for (const [name, spec] of Object.entries(serveFlags)) {
    const flag = spec.type === 'string' ? `--${name} VALUE` : `--${name}`;
    const def = spec.default !== undefined ? ` (default: ${spec.default})` : '';
    lines.push(`  ${flag.padEnd(30)} ${spec.help}${def}`);
  }
  lines.push(
    '',
    'Environment: e.g. PLUGBOARD_LINE_PORT=9000, PLUGBOARD_OPER="alice:secret,bob:pw".',
  );
  return lines.join('\n');
}

export class ConfigError extends Error {}

function envName(flag: string): string {
  return 'PLUGBOARD_' + flag.toUpperCase().replace(/-/g, '_');
}

/** Resolves one flag: command line, then environment, then config file, then default. */
function resolve(
  name: string,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown>,
): string | string[] | boolean | undefined {
  const spec = serveFlags[name] as FlagSpec;
  const fromFlag = flags[name];
  if (fromFlag !== undefined) return fromFlag as string | string[] | boolean;
  const fromEnv = env[envName(name)];
  if (fromEnv !== undefined) {
    if (spec.type === 'boolean') return fromEnv === '1' || fromEnv === 'true';
    return spec.multiple ? fromEnv.split(',').filter(Boolean) : fromEnv;
  }
  const fromFile = file[name];
  if (fromFile !== undefined) {
    if (spec.multiple) return (Array.isArray(fromFile) ? fromFile : [fromFile]).map(String);
    return spec.type === 'boolean' ? Boolean(fromFile) : String(fromFile);
  }
  return spec.default;
}

function int(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `--${name} must be a whole number between ${min} and ${max} (got "${String(value)}")`,
    );
  }
  return n;
}

export function parseServeArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig | 'help' {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, spec] of Object.entries(serveFlags)) {
    options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}) };
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
  const get = (name: string) => resolve(name, flags, env, file);
  const port = (name: string) => int(name, get(name), -1, 65535);

  const o = defaultOptions();
  o.serverName = String(get('server-name'));
  o.sendQueueBytes = int('send-queue', get('send-queue'), 1024);
  o.maxLineBytes = int('max-line', get('max-line'), 64);
  o.floodBurst = int('flood-burst', get('flood-burst'), 1);
  o.floodRate = Number(get('flood-rate'));
  if (!(o.floodRate >= 0)) throw new ConfigError('--flood-rate must be 0 or more lines per second');
  o.maxConnections = int('max-connections', get('max-connections'), 1);
  o.maxConnectionsPerIp = int('max-per-ip', get('max-per-ip'), 1);
  o.registrationTimeoutMs = int('registration-timeout', get('registration-timeout'), 0) * 1000;
  o.idleTimeoutMs = int('idle-timeout', get('idle-timeout'), 0) * 1000;
  o.retentionMaxAgeMs = int('retention-days', get('retention-days'), 0) * 86_400_000;
  o.retentionMaxCount = int('retention-count', get('retention-count'), 0);
  o.historyOnJoin = int('history-on-join', get('history-on-join'), 0, 1000);
  o.ackAfterCommit = Boolean(get('ack-after-commit'));
  const password = get('password');
  o.password = typeof password === 'string' && password !== '' ? password : null;
  for (const entry of (get('oper') as string[] | undefined) ?? []) {
    const i = entry.indexOf(':');
    if (i <= 0) throw new ConfigError(`--oper must be NAME:PASSWORD (got "${entry}")`);
    o.opers.set(entry.slice(0, i), entry.slice(i + 1));
  }
  const tlsCert = (get('tls-cert') as string | undefined) ?? null;
  const tlsKey = (get('tls-key') as string | undefined) ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) {
    throw new ConfigError('--tls-cert and --tls-key go together');
  }
  return {
    host: String(get('host')),
    ports: {
      line: port('line-port'),
      framed: port('framed-port'),
      irc: port('irc-port'),
      ircTls: port('irc-tls-port'),
      lineTls: port('line-tls-port'),
      framedTls: port('framed-tls-port'),
      http: port('http-port'),
      udp: port('udp-port'),
    },
    dataDir: String(get('data-dir')),
    store: String(get('store')),
    bus: String(get('bus')),
    tlsCert,
    tlsKey,
    readyFile: (get('ready-file') as string | undefined) ?? null,
    logLevel: String(get('log-level')),
    wsOrigins: (get('ws-origin') as string[] | undefined) ?? [],
    console: !get('no-console'),
    backlog: 511,
    tcpKeepaliveMs: int('tcp-keepalive', get('tcp-keepalive'), 0, 3600) * 1000,
    udp: {
      rate: int('udp-rate', get('udp-rate'), 1),
      byteRate: int('udp-byte-rate', get('udp-byte-rate'), 1),
      recvBufferSize: int('udp-rcvbuf', get('udp-rcvbuf'), 0),
      sendBufferSize: int('udp-sndbuf', get('udp-sndbuf'), 0),
    },
    maxFrame: int('max-frame', get('max-frame'), 256, 16 * 1024 * 1024),
    options: o,
  };
}
