/**
 * N benchmark clients in one process, and the receive hot path they share.
 *
 * The generator must stay cheaper per delivery than the servers it measures, so:
 * - every socket reads into one shared buffer (`onread`), no Buffer or string per read;
 * - a line is classified by its last bytes: benchmark payloads end in "~B" (and barrier,
 *   pair-check payloads in "~Z", "~P"), so counting needs no parsing;
 * - only a sample of receivers parses payloads (sender, sequence, send time) for latency
 *   and ordering; only lines a client is waiting for become strings.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { SampleBuffer } from '../lib/stats.js';
import type { WireProtocol } from './protocol.js';
import type { Endpoint } from './types.js';

export interface SwarmOptions {
  /** Nicknames are `${nickPrefix}${i}` (default "b"): several generators need distinct ones. */
  nickPrefix?: string;
  /** Source address every socket binds to (one 127.x.y.z per generator process). */
  localAddress?: string;
}

/**
 * With a source address, each socket also gets its source port from us, counting up from
 * here. Binding to an address with port 0 makes Linux search its bind table for a free
 * port, which costs more the more ports the address holds: at 8,000 connections from one
 * address, 1.2 ms of kernel time per connect (720 connects a second, against 7,500 with
 * the port given). In the 100,000-connection run that made six generators use more CPU
 * than the servers they measured, starving them.
 */
const FIRST_SOURCE_PORT = 10_000;
const LAST_SOURCE_PORT = 65_535;

const LF = 10;
const CR = 13;
const TILDE = 126;
const TAG_BENCH = 66; // 'B'
const TAG_BARRIER = 90; // 'Z'
const TAG_PAIR = 80; // 'P'

export class Client {
  socket: net.Socket | null = null;
  /** Bytes of an incomplete line, copied out of the shared read buffer. */
  carry: Buffer | null = null;
  /** Substrings that finish what this client is waiting for (registration, join). */
  waiting: readonly string[] | null = null;
  done: (() => void) | null = null;
  /** Highest sequence seen per sender, on sampled receivers only. */
  lastSeq: Float64Array | null = null;
  lastNotice = '';
  closed = false;

  constructor(
    readonly id: number,
    readonly nick: string,
  ) {}
}

/** Microseconds on the generator's own monotonic clock: sender and receiver share it. */
export function nowUs(): number {
  return Math.round(performance.now() * 1000);
}

export class Swarm {
  readonly clients: Client[] = [];
  /** Lines received, by kind. */
  bench = 0;
  barrier = 0;
  /** Socket reads: deliveries per read shows how much the server coalesced its writes. */
  reads = 0;
  registered = 0;
  pairs = 0;
  other = 0;
  /** Only payloads sent inside [windowStartUs, windowEndUs) feed the latency samples. */
  windowStartUs = Infinity;
  windowEndUs = Infinity;
  readonly latencies = new SampleBuffer(4_000_000);
  reorders = 0;
  disconnects = 0;
  readonly reasons: string[] = [];
  /** Called after every received chunk: the saturation loop tops up its window here. */
  afterData: (() => void) | null = null;
  stopping = false;
  /** Next sequence number per sender slot; kept across points so ordering checks carry over. */
  readonly seq: Float64Array;

  private readonly readBuf = Buffer.allocUnsafe(256 * 1024);
  private nextPort = FIRST_SOURCE_PORT;
  private readonly sampleEvery: number;

  constructor(
    readonly proto: WireProtocol,
    private readonly endpoints: readonly Endpoint[],
    n: number,
    private readonly senders: number,
    sampleReceivers: number,
    private readonly options: SwarmOptions = {},
  ) {
    if (endpoints.length === 0) throw new Error('a swarm needs at least one endpoint');
    this.seq = new Float64Array(senders);
    this.sampleEvery = Math.max(1, Math.floor(n / Math.max(1, sampleReceivers)));
    const prefix = options.nickPrefix ?? 'b';
    for (let i = 0; i < n; i++) {
      const c = new Client(i, `${prefix}${i}`);
      if (i % this.sampleEvery === 0) c.lastSeq = new Float64Array(senders).fill(-1);
      this.clients.push(c);
    }
  }

  /** The nickname of client i (what another client addresses it by). */
  nick(i: number): string {
    return (this.clients[i] as Client).nick;
  }

  /** Connects and registers one client; resolves once the server welcomed it. */
  connect(c: Client): Promise<void> {
    return new Promise((resolve, reject) => {
      const to = this.endpoints[c.id % this.endpoints.length] as Endpoint;
      const local = this.options.localAddress;
      if (local && this.nextPort > LAST_SOURCE_PORT) {
        reject(new Error(`${c.nick}: no source port left on ${local}`));
        return;
      }
      const sock = net.connect({
        host: to.host,
        port: to.port,
        ...(local ? { localAddress: local, localPort: this.nextPort++ } : {}),
        onread: {
          buffer: this.readBuf,
          callback: (nread: number, buf: Uint8Array) => {
            this.onData(c, nread, buf as Buffer);
            return true;
          },
        },
      });
      c.socket = sock;
      c.waiting = this.proto.registered;
      c.done = () => {
        this.registered++;
        resolve();
      };
      sock.setNoDelay(true);
      sock.on('connect', () => sock.write(this.proto.register(c.nick)));
      let retried = false;
      sock.on('error', (e: NodeJS.ErrnoException) => {
        // The port is taken (a socket of an earlier run in TIME_WAIT, another program's
        // listener): the next one, as the kernel's own search would have done. The shared
        // counter moves past a taken stretch once, and the port range bounds it.
        if (e.code === 'EADDRINUSE' && e.syscall === 'bind') {
          retried = true;
          c.done = null;
          this.connect(c).then(resolve, reject);
          return;
        }
        if (!c.lastNotice) c.lastNotice = e.message;
      });
      sock.on('close', () => {
        if (retried) return;
        c.closed = true;
        if (!this.stopping) {
          this.disconnects++;
          if (this.reasons.length < 5) this.reasons.push(`${c.nick}: ${c.lastNotice || 'closed'}`);
        }
        if (c.done) {
          c.done = null;
          reject(new Error(`${c.nick} disconnected: ${c.lastNotice || 'closed'}`));
        }
      });
    });
  }

  /** Sends `bytes` from c and resolves when a line containing one of `needles` arrives. */
  request(c: Client, bytes: string, needles: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (c.closed || !c.socket) {
        reject(new Error(`${c.nick} is not connected`));
        return;
      }
      c.waiting = needles;
      c.done = resolve;
      c.socket.write(bytes);
    });
  }

  send(c: Client, bytes: string): void {
    if (c.socket && !c.closed) c.socket.write(bytes);
  }

  /** Bytes the generator has queued but the kernel has not taken (the server is not reading). */
  queued(c: Client): number {
    return c.socket ? c.socket.writableLength : 0;
  }

  closeAll(): void {
    this.stopping = true;
    for (const c of this.clients) c.socket?.destroy();
  }

  private onData(c: Client, nread: number, shared: Buffer): void {
    this.reads++;
    let b: Buffer;
    if (c.carry) {
      b = Buffer.concat([c.carry, shared.subarray(0, nread)]);
      c.carry = null;
    } else {
      b = shared.subarray(0, nread);
    }
    let start = 0;
    let now = -1;
    for (;;) {
      const nl = b.indexOf(LF, start);
      if (nl === -1) break;
      let end = nl;
      if (end > start && b[end - 1] === CR) end--;
      if (end - start >= 2 && b[end - 2] === TILDE) {
        const tag = b[end - 1];
        if (tag === TAG_BENCH) {
          this.bench++;
          if (c.lastSeq) {
            if (now < 0) now = nowUs();
            this.sample(c, b, start, end, now);
          }
        } else if (tag === TAG_BARRIER) {
          this.barrier++;
        } else if (tag === TAG_PAIR) {
          if (parseBack(b, end - 4, start) === c.id) this.pairs++;
        } else {
          this.control(c, b, start, end);
        }
      } else {
        this.control(c, b, start, end);
      }
      start = nl + 1;
    }
    // Copy: the shared buffer is overwritten by the next read of any socket.
    if (start < b.length) c.carry = Buffer.from(b.subarray(start));
    if (this.afterData) this.afterData();
  }

  /** Payload "S Q T ~B": sender slot, sequence number, send time in µs. Parsed from the end. */
  private sample(c: Client, b: Buffer, start: number, end: number, now: number): void {
    const t = parseBack(b, end - 4, start);
    const q = parseBack(b, cursor - 1, start);
    const s = parseBack(b, cursor - 1, start);
    if (t >= this.windowStartUs && t < this.windowEndUs) this.latencies.push(now - t);
    const seen = c.lastSeq as Float64Array;
    if (s >= 0 && s < seen.length) {
      if (q <= (seen[s] as number)) this.reorders++;
      seen[s] = q;
    }
  }

  /** Any other line: only looked at when waited for, a keep-alive, or a parting reason. */
  private control(c: Client, b: Buffer, start: number, end: number): void {
    this.other++;
    const first = b[start];
    if (c.waiting) {
      const text = b.toString('latin1', start, end);
      for (const needle of c.waiting) {
        if (text.includes(needle)) {
          c.waiting = null;
          const done = c.done;
          c.done = null;
          done?.();
          return;
        }
      }
    }
    if (first === 80 /* P */) {
      const reply = this.proto.pong(b.toString('latin1', start, end));
      if (reply) this.send(c, reply);
    } else if (
      first === 69 /* E: IRC ERROR */ ||
      (first === 42 && b[start + 2] === 68) /* "* D" */
    ) {
      c.lastNotice = b.toString('utf8', start, Math.min(end, start + 200));
    }
  }

  sender(k: number): Client {
    return this.clients[k % this.senders] as Client;
  }
}

/** Where the last parseBack stopped: the index just before the number's first digit. */
let cursor = 0;

/** Reads the decimal number that ends at index `last`, scanning backwards; -1 if none. */
function parseBack(b: Buffer, last: number, floor: number): number {
  let value = 0;
  let scale = 1;
  let p = last;
  while (p >= floor) {
    const d = (b[p] as number) - 48;
    if (d < 0 || d > 9) break;
    value += d * scale;
    scale *= 10;
    p--;
  }
  cursor = p;
  return p === last ? -1 : value;
}
