/**
 * `plugboard udp-ping HOST[:PORT] [--count N] [--interval MS] [--size BYTES]`: sends
 * numbered datagrams to the UDP echo service and reports round trips, like ping. Each
 * datagram carries its sequence number in its first 4 bytes; a reply counts only if it is
 * byte for byte what was sent.
 */
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const HELP = `Usage: plugboard udp-ping [HOST[:PORT]] [--count N] [--interval MS] [--size BYTES] [--timeout MS]

Measures round trips to a Plugboard UDP echo service (default 127.0.0.1:23000).

  --count N       datagrams to send (default 5)
  --interval MS   time between datagrams (default 1000)
  --size BYTES    datagram size, 8..65507 (default 56)
  --timeout MS    how long to wait for the last replies (default 1000)

Ctrl-C stops early and still prints the summary. Exit code 0 if any reply came back.
`;

export interface Summary {
  sent: number;
  received: number;
  lossPercent: number;
  /** Milliseconds; absent when nothing came back. */
  rtt?: { min: number; avg: number; max: number; p99: number };
}

/** Ping statistics: loss and round-trip min/avg/max and 99th percentile (nearest rank). */
export function summarize(sent: number, rtts: readonly number[]): Summary {
  const received = rtts.length;
  const lossPercent = sent === 0 ? 0 : ((sent - received) / sent) * 100;
  if (received === 0) return { sent, received, lossPercent };
  const sorted = [...rtts].sort((a, b) => a - b);
  const at = (i: number) => sorted[Math.min(sorted.length - 1, Math.max(0, i))] as number;
  return {
    sent,
    received,
    lossPercent,
    rtt: {
      min: at(0),
      avg: rtts.reduce((a, b) => a + b, 0) / received,
      max: at(sorted.length - 1),
      p99: at(Math.ceil(sorted.length * 0.99) - 1),
    },
  };
}

export function formatSummary(target: string, s: Summary): string {
  let out = `--- ${target} udp-ping statistics ---\n`;
  out += `${s.sent} sent, ${s.received} received, ${s.lossPercent.toFixed(1)}% loss\n`;
  if (s.rtt) {
    const r = s.rtt;
    out += `rtt min/avg/max/p99 = ${[r.min, r.avg, r.max, r.p99].map((n) => n.toFixed(3)).join('/')} ms\n`;
  }
  return out;
}

interface PingOptions {
  host: string;
  port: number;
  count: number;
  interval: number;
  size: number;
  timeout: number;
}

function options(argv: string[]): PingOptions | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        count: { type: 'string', default: '5' },
        interval: { type: 'string', default: '1000' },
        size: { type: 'string', default: '56' },
        timeout: { type: 'string', default: '1000' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return (err as Error).message;
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [count, interval, size, timeout] = [
    values.count,
    values.interval,
    values.size,
    values.timeout,
  ].map(Number) as [number, number, number, number];
  if (![count, interval, timeout].every((n) => Number.isInteger(n) && n > 0))
    return '--count, --interval and --timeout must be positive whole numbers';
  // 65,507: the largest UDP payload over IPv4 (65,535 less the IP and UDP headers).
  if (!Number.isInteger(size) || size < 8 || size > 65_507) return '--size must be 8..65507';
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(positionals[0] ?? '127.0.0.1');
  const port = m?.[3] ? Number(m[3]) : 23000;
  if (!m || port < 1 || port > 65535) return `cannot read HOST[:PORT] from "${positionals[0]}"`;
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port, count, interval, size, timeout };
}

export async function udpPingMain(argv: string[]): Promise<number> {
  const o = options(argv);
  if (o === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof o === 'string') {
    process.stderr.write(`udp-ping: ${o}\n`);
    return 2;
  }
  const target = `${o.host}:${o.port}`;
  const socket = dgram.createSocket(o.host.includes(':') ? 'udp6' : 'udp4');
  const inFlight = new Map<number, { at: bigint; payload: Buffer }>();
  const rtts: number[] = [];
  let sent = 0;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((r) => (stop = r));

  socket.on('message', (msg) => {
    if (msg.length < 4) return;
    const seq = msg.readUInt32BE(0);
    const sentOne = inFlight.get(seq);
    if (!sentOne || !sentOne.payload.equals(msg)) return; // late, duplicate or not ours
    inFlight.delete(seq);
    const ms = Number(process.hrtime.bigint() - sentOne.at) / 1e6;
    rtts.push(ms);
    process.stdout.write(
      `${msg.length} bytes from ${target}: seq=${seq} time=${ms.toFixed(3)} ms\n`,
    );
    if (sent === o.count && inFlight.size === 0) stop();
  });
  socket.on('error', (err) => {
    process.stderr.write(`udp-ping: ${err.message}\n`);
  });
  const onSigint = () => stop();
  process.once('SIGINT', onSigint);

  process.stdout.write(`UDP-PING ${target}: ${o.size} bytes, ${o.count} datagrams\n`);
  let timer: NodeJS.Timeout | undefined;
  const sendNext = () => {
    const payload = Buffer.alloc(o.size, 0x61); // 'a…': readable in a packet capture
    payload.writeUInt32BE(sent, 0);
    inFlight.set(sent, { at: process.hrtime.bigint(), payload });
    socket.send(payload, o.port, o.host);
    sent++;
    // After the last one, wait for stragglers (or stop as soon as every reply is in).
    timer = setTimeout(sent < o.count ? sendNext : stop, sent < o.count ? o.interval : o.timeout);
  };
  sendNext();
  await stopped;
  clearTimeout(timer);
  process.off('SIGINT', onSigint);
  socket.close();
  const summary = summarize(sent, rtts);
  process.stdout.write(formatSummary(target, summary));
  return summary.received > 0 ? 0 : 1;
}
