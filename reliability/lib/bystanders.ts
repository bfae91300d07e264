/**
 * Innocent users, one per chat protocol (line, IRC, framed JSON, WebSocket), chatting in
 * one room while a scenario attacks the server beside them. Each message carries a
 * unique token; every other bystander must receive it. The verdict figures: how many
 * messages, how many (message, recipient) deliveries are missing, the delivery latency,
 * and who was disconnected.
 */
import dgram from 'node:dgram';
import {
  FramedConn,
  ircUser,
  lineUser,
  TextConn,
  WsConn,
  type JsonClient,
  type Msg,
} from './clients.js';
import type { Server } from './server.js';
import { percentile } from './stats.js';

type Protocol = 'line' | 'irc' | 'framed' | 'ws';
const PROTOCOLS: Protocol[] = ['line', 'irc', 'framed', 'ws'];

interface Member {
  protocol: Protocol;
  name: string;
  conn: TextConn | JsonClient;
  say(text: string): void;
  disconnected: boolean;
}

export interface BystanderReport {
  sent: number;
  expectedDeliveries: number;
  missingDeliveries: number;
  /** A few of the missing ones: "token -> recipient". */
  missingSample: string[];
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  disconnected: string[];
  /** Messages whose send was refused or answered with an error (JSON protocols). */
  errors: string[];
  /** The same, with when each came and its code (the first per bystander). */
  errorsAt: { at: number; code: string; text: string }[];
}

const TOKEN = /K(\d)n(\d+)Z/g;

export class Bystanders {
  private members: Member[] = [];
  private sentAt = new Map<string, { at: number; from: number }>();
  /** token -> recipient index -> latency */
  private seen = new Map<string, Map<number, number>>();
  private timers: NodeJS.Timeout[] = [];
  private seq = 0;
  private errors: string[] = [];
  private errorsAt: { at: number; code: string; text: string }[] = [];
  /** [sent at, latency] of every delivery, for slowest(). */
  private deliveries: [number, number][] = [];

  private constructor(
    private readonly server: Server,
    readonly room: string,
  ) {}

  /** One bystander per protocol, all in `room` (created if needed), ready to chat. */
  static async join(server: Server, prefix: string, room = '#lobby'): Promise<Bystanders> {
    const b = new Bystanders(server, room);
    for (const protocol of PROTOCOLS)
      b.members.push(await b.connect(protocol, `${prefix}${protocol}`));
    // Everyone is in the room before the first message: wait until each sees the others.
    await new Promise((r) => setTimeout(r, 300));
    return b;
  }

  private watch(index: number, text: string): void {
    for (const m of text.matchAll(TOKEN)) {
      const token = m[0];
      const sent = this.sentAt.get(token);
      if (!sent || sent.from === index) continue;
      let by = this.seen.get(token);
      if (!by) this.seen.set(token, (by = new Map()));
      if (!by.has(index)) {
        by.set(index, Date.now() - sent.at);
        this.deliveries.push([sent.at, Date.now() - sent.at]);
      }
    }
  }

  private async connect(protocol: Protocol, name: string): Promise<Member> {
    const index = this.members.length;
    const room = this.room;
    const port = this.server.port(protocol === 'ws' ? 'http' : protocol);
    let member: Member;
    if (protocol === 'line' || protocol === 'irc') {
      const conn =
        protocol === 'line'
          ? await lineUser(port, name, { keep: 200 })
          : await ircUser(port, name, { keep: 200 });
      if (protocol === 'line') {
        if (room !== '#lobby') {
          conn.send(`/join ${room}`);
          await conn.waitLine(/^\* You joined/);
        }
      } else {
        conn.send(`JOIN ${room}`);
        await conn.waitLine(/ 366 /);
      }
      conn.onRaw = (raw) => this.watch(index, raw.toString('utf8'));
      member = {
        protocol,
        name,
        conn,
        disconnected: false,
        say: (text) => conn.send(protocol === 'line' ? text : `PRIVMSG ${room} :${text}`),
      };
    } else {
      const conn =
        protocol === 'framed'
          ? await FramedConn.connect(port, { keep: 200 })
          : await WsConn.open(port, { keep: 200 });
      await conn.hello(name);
      if (room !== '#lobby') {
        const r = await conn.request({ type: 'join', room });
        if (r.type === 'error') throw new Error(`join ${room}: ${JSON.stringify(r)}`);
      }
      conn.onRaw = (json) => {
        // Only message texts count: a token inside an error message would be a false hit.
        if (json.includes('"message"')) this.watch(index, json);
      };
      conn.msgs
        .waitFor((m: Msg) => m.type === 'error', 24 * 3600_000)
        .then(
          (m) => {
            const text = `${name}: ${JSON.stringify(m).slice(0, 200)}`;
            this.errors.push(text);
            this.errorsAt.push({ at: Date.now(), code: String(m.code), text });
          },
          () => {},
        );
      member = {
        protocol,
        name,
        conn,
        disconnected: false,
        say: (text) => conn.send({ type: 'say', room, text }),
      };
    }
    void member.conn.closed.then(() => (member.disconnected = true));
    return member;
  }

  /** Each bystander says something every `intervalMs` (jittered), until stop(). */
  start(intervalMs: number): void {
    this.members.forEach((m, index) => {
      const tick = (): void => {
        if (m.disconnected) return;
        const token = `K${index}n${this.seq++}Z`;
        this.sentAt.set(token, { at: Date.now(), from: index });
        m.say(`bystander ${m.name} says ${token}`);
        this.timers[index] = setTimeout(tick, intervalMs * (0.8 + 0.4 * Math.random()));
      };
      this.timers[index] = setTimeout(tick, Math.random() * intervalMs);
    });
  }

  /** The slowest delivery of a message sent between `from` and `to` (ms since the epoch). */
  slowest(from: number, to: number): number {
    let max = 0;
    for (const [at, ms] of this.deliveries) if (at >= from && at <= to && ms > max) max = ms;
    return max;
  }

  /**
   * The slowest delivery once `net` has taken out of each latency what is not the
   * server's doing (the time the processes waited for a CPU, see StarvationWatch).
   */
  slowestNet(net: (sentAt: number, latencyMs: number) => number): number {
    let max = 0;
    for (const [at, ms] of this.deliveries) {
      if (ms < max) continue;
      const n = net(at, ms);
      if (n > max) max = n;
    }
    return max;
  }

  /** Stops chatting, waits (up to settleMs) for what is in flight, and reports. */
  async stop(settleMs = 5000): Promise<BystanderReport> {
    for (const t of this.timers) clearTimeout(t);
    const expected = (): number => this.sentAt.size * (this.members.length - 1);
    const delivered = (): number => [...this.seen.values()].reduce((n, by) => n + by.size, 0);
    const end = Date.now() + settleMs;
    while (delivered() < expected() && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
    const missing: string[] = [];
    for (const [token, sent] of this.sentAt) {
      const by = this.seen.get(token);
      this.members.forEach((m, i) => {
        if (i !== sent.from && !by?.has(i)) missing.push(`${token} -> ${m.name}`);
      });
    }
    const latencies = [...this.seen.values()].flatMap((by) => [...by.values()]);
    return {
      sent: this.sentAt.size,
      expectedDeliveries: expected(),
      missingDeliveries: missing.length,
      missingSample: missing.slice(0, 10),
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
      latencyMaxMs: latencies.length ? Math.max(...latencies) : 0,
      disconnected: this.members.filter((m) => m.disconnected).map((m) => m.name),
      errors: this.errors.slice(0, 10),
      errorsAt: this.errorsAt.slice(0, 10),
    };
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    for (const m of this.members) m.conn.close();
  }
}

/**
 * An innocent UDP echo user from its own source address (the echo's limits are per
 * address, so an attacker on another address must not eat its budget).
 */
export interface UdpReport {
  sent: number;
  received: number;
  lossPct: number;
  rttMaxMs: number;
  /** Pings sent while neither side was starved of CPU, and the loss among them. */
  netSent: number;
  netLossPct: number;
}

export class UdpPinger {
  private socket = dgram.createSocket('udp4');
  private sent = new Map<number, number>();
  /** [sent at, round trip] of every answered ping. */
  private rtts: [number, number][] = [];
  private answered = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  private constructor(private readonly port: number) {}

  static async start(port: number, localAddress: string, perSecond: number): Promise<UdpPinger> {
    const p = new UdpPinger(port);
    await new Promise<void>((resolve, reject) => {
      p.socket.once('error', reject);
      p.socket.bind(0, localAddress, () => resolve());
    });
    p.socket.on('error', () => {});
    p.socket.on('message', (msg) => {
      if (msg.length < 4) return;
      const seq = msg.readUInt32BE(0);
      const at = p.sent.get(seq);
      if (at !== undefined && !p.answered.has(seq)) {
        p.answered.add(seq);
        p.rtts.push([at, Date.now() - at]);
      }
    });
    p.timer = setInterval(() => {
      const b = Buffer.alloc(64, 0x61);
      b.writeUInt32BE(p.seq, 0);
      p.sent.set(p.seq++, Date.now());
      p.socket.send(b, port, '127.0.0.1');
    }, 1000 / perSecond);
    return p;
  }

  /**
   * Stops and reports. With `starved(sentAt)`, the pings sent while the server (or this
   * process) was starved of CPU are also left out for the net figures: a datagram that
   * arrives while nobody reads the socket is dropped by the kernel once its buffer is full.
   */
  async stop(starved?: (sentAt: number) => boolean): Promise<UdpReport> {
    clearInterval(this.timer);
    await new Promise((r) => setTimeout(r, 500));
    this.socket.close();
    const sent = this.sent.size;
    let netSent = 0;
    let netLost = 0;
    for (const [seq, at] of this.sent) {
      if (starved?.(at)) continue;
      netSent++;
      if (!this.answered.has(seq)) netLost++;
    }
    return {
      sent,
      received: this.rtts.length,
      lossPct: sent ? (100 * (sent - this.rtts.length)) / sent : 0,
      rttMaxMs: this.rtts.reduce((m, [, rtt]) => Math.max(m, rtt), 0),
      netSent,
      netLossPct: netSent ? (100 * netLost) / netSent : 0,
    };
  }

  get targetPort(): number {
    return this.port;
  }
}
