/**
 * `plugboard udp-ping HOST[:PORT] [--count N] [--interval MS] [--size BYTES]`: sends
 * numbered datagrams to the UDP echo service and reports round trips, like ping.
 */
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const HELP = `Usage: plugboard udp-ping [HOST[:PORT]] [--count N] [--interval MS] [--size BYTES] [--timeout MS]

Measures round trips to a Plugboard UDP echo service (default 127.0.0.1:23000).
`;

export async function udpPingMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
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
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const count = Number(values.count);
  const interval = Number(values.interval);
  const size = Number(values.size);
  const timeout = Number(values.timeout);
  if (
    ![count, interval, timeout].every((n) => Number.isInteger(n) && n > 0) ||
    !Number.isInteger(size) ||
    size < 8 ||
    size > 65_507
  ) {
    process.stderr.write(
      'udp-ping: --count, --interval and --timeout must be positive; --size 8..65507\n',
    );
    return 2;
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(positionals[0] ?? '127.0.0.1');
  const host = m?.[1] ?? m?.[2] ?? '127.0.0.1';
  const port = m?.[3] ? Number(m[3]) : 23000;

  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const sentAt = new Map<number, bigint>();
  const rtts: number[] = [];
  socket.on('message', (msg) => {
    if (msg.length < 8) return;
    const seq = msg.readUInt32BE(0);
    const t0 = sentAt.get(seq);
    if (t0 === undefined) return;
    sentAt.delete(seq);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    rtts.push(ms);
    process.stdout.write(
      `${msg.length} bytes from ${host}:${port}: seq=${seq} time=${ms.toFixed(3)} ms\n`,
    );
  });
  socket.on('error', (err) => process.stderr.write(`udp-ping: ${err.message}\n`));

  process.stdout.write(`UDP-PING ${host}:${port}: ${size} bytes, ${count} datagrams\n`);
  for (let seq = 0; seq < count; seq++) {
    const payload = Buffer.alloc(size);
    payload.writeUInt32BE(seq, 0);
    sentAt.set(seq, process.hrtime.bigint());
    socket.send(payload, port, host);
    await new Promise((r) => setTimeout(r, seq === count - 1 ? timeout : interval));
  }
  socket.close();
  const received = rtts.length;
  const loss = ((count - received) / count) * 100;
  process.stdout.write(`--- ${host}:${port} udp-ping statistics ---\n`);
  process.stdout.write(`${count} sent, ${received} received, ${loss.toFixed(1)}% loss\n`);
  if (received > 0) {
    const sorted = [...rtts].sort((a, b) => a - b);
    const avg = rtts.reduce((a, b) => a + b, 0) / received;
    const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] as number;
    process.stdout.write(
      `rtt min/avg/max/p99 = ${(sorted[0] as number).toFixed(3)}/${avg.toFixed(3)}/${(sorted[sorted.length - 1] as number).toFixed(3)}/${p99.toFixed(3)} ms\n`,
    );
  }
  return received > 0 ? 0 : 1;
}
