/**
 * Telnet on the line protocol over real sockets: a test client that negotiates as Debian's
 * telnet (inetutils 2.4) does, netcat-like clients that must never see a telnet byte, and
 * clients that flood or loop. The real programs are driven in line-telnet-real.test.ts.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';
import { displayWidth } from '../../src/protocols/line/wrap.js';

const IAC = 255;
const [WILL, WONT, DO, DONT, SB, SE] = [251, 252, 253, 254, 250, 240];
const [BINARY, SGA, TM, TTYPE, NAWS] = [0, 3, 6, 24, 31];
const IP = 244;
const BRK = 243;

/** What the server sends a client it takes for telnet: each request once, in this order. */
const REQUESTS = Buffer.from([
  ...[IAC, DO, BINARY],
  ...[IAC, WILL, BINARY],
  ...[IAC, DO, SGA],
  ...[IAC, DO, NAWS],
  ...[IAC, DO, TTYPE],
]);

interface TelnetOptions {
  width?: number;
  height?: number;
  /** Options this client refuses (answers WONT/DONT), like a telnet without binary support. */
  refuse?: number[];
}

/**
 * Negotiates as inetutils telnet does on a non-standard port: it starts nothing, answers
 * DO/WILL for BINARY, SGA, NAWS and TTYPE, sends its window size and type, ends lines with
 * CR LF, and, until the server has its WILL BINARY, sends the bytes it takes for its
 * interrupt and quit keys (those whose low 7 bits are ^C or ^\) as IAC IP / IAC BRK followed
 * by IAC DO TIMING-MARK, losing the byte. In binary input mode it sends text and LF as typed.
 */
class TelnetClient {
  readonly lines: string[] = [];
  /** Every byte received, telnet commands included. */
  raw = Buffer.alloc(0);
  /** Telnet commands received, as [verb, option]. */
  readonly received: [number, number][] = [];
  binaryOut = false; // we send 8-bit (the server's DO BINARY agreed to)
  binaryIn = false;
  closed = false;
  private text = Buffer.alloc(0);
  private pending = Buffer.alloc(0);
  private waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  private cursor = 0;

  private constructor(
    readonly socket: net.Socket,
    private width: number,
    private height: number,
    private readonly refuse: Set<number>,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static connect(port: number, opts: TelnetOptions = {}): Promise<TelnetClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () =>
        resolve(new TelnetClient(s, opts.width ?? 80, opts.height ?? 24, new Set(opts.refuse))),
      );
      s.once('error', reject);
    });
  }

  static async named(port: number, name: string, opts: TelnetOptions = {}): Promise<TelnetClient> {
    const c = await TelnetClient.connect(port, opts);
    await c.expect(/Choose a name: $/);
    c.type(name);
    await c.expect(/^\* Welcome, /);
    return c;
  }

  private onData(d: Buffer): void {
    this.raw = Buffer.concat([this.raw, d]);
    let buf = Buffer.concat([this.pending, d]);
    this.pending = Buffer.alloc(0);
    const data: number[] = [];
    let i = 0;
    while (i < buf.length) {
      const b = buf[i] as number;
      if (b !== IAC) {
        data.push(b);
        i++;
        continue;
      }
      if (i + 1 >= buf.length) break;
      const verb = buf[i + 1] as number;
      if (verb === IAC) {
        data.push(IAC);
        i += 2;
      } else if (verb >= WILL && verb <= DONT) {
        if (i + 2 >= buf.length) break;
        this.answer(verb, buf[i + 2] as number);
        i += 3;
      } else if (verb === SB) {
        const end = buf.indexOf(Buffer.from([IAC, SE]), i);
        if (end < 0) break;
        const sub = buf.subarray(i + 2, end);
        if (sub[0] === TTYPE && sub[1] === 1) this.sendSub(TTYPE, [0, ...Buffer.from('XTERM')]);
        i = end + 2;
      } else i += 2;
    }
    this.pending = buf.subarray(i);
    buf = Buffer.alloc(0);
    this.text = Buffer.concat([this.text, Buffer.from(data)]);
    this.splitLines();
  }

  private answer(verb: number, option: number): void {
    this.received.push([verb, option]);
    const ok = [BINARY, SGA, NAWS, TTYPE].includes(option) && !this.refuse.has(option);
    if (verb === DO) {
      this.send([IAC, ok ? WILL : WONT, option]);
      if (ok && option === BINARY) this.binaryOut = true;
      if (ok && option === NAWS) this.sendNaws();
    } else if (verb === WILL) {
      this.send([IAC, ok ? DO : DONT, option]);
      if (ok && option === BINARY) this.binaryIn = true;
    }
  }

  private splitLines(): void {
    for (;;) {
      const s = this.text.toString('utf8');
      const m = /\r\n|Choose a name: /.exec(s);
      if (!m) return;
      const line = m[0] === '\r\n' ? s.slice(0, m.index) : s.slice(0, m.index + m[0].length);
      this.text = Buffer.from(s.slice(m.index + m[0].length));
      this.lines.push(asShown(line));
      this.check();
    }
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = this.cursor; i < this.lines.length; i++) {
        if (w.re.test(this.lines[i] as string)) {
          this.cursor = i + 1;
          w.resolve(this.lines[i] as string);
          return false;
        }
      }
      return true;
    });
  }

  expect(re: RegExp, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${re}; got:\n${this.lines.join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      this.check();
    });
  }

  /** Lines received after the last matched one. */
  since(): string[] {
    return this.lines.slice(this.cursor);
  }

  private send(bytes: number[]): void {
    this.socket.write(Buffer.from(bytes));
  }

  private sendSub(option: number, data: number[]): void {
    const escaped = data.flatMap((b) => (b === IAC ? [IAC, IAC] : [b]));
    this.send([IAC, SB, option, ...escaped, IAC, SE]);
  }

  private sendNaws(): void {
    const w = this.width;
    const h = this.height;
    this.sendSub(NAWS, [w >> 8, w & 255, h >> 8, h & 255]);
  }

  resize(width: number, height = this.height): void {
    this.width = width;
    this.height = height;
    this.sendNaws();
  }

  /** Types a line and presses Enter. */
  type(line: string): void {
    const bytes = [...Buffer.from(line)];
    if (this.binaryOut) {
      this.send([...bytes.flatMap((b) => (b === IAC ? [IAC, IAC] : [b])), 10]);
      return;
    }
    const out: number[] = [];
    for (const b of bytes) {
      if ((b & 0x7f) === 0x03) out.push(IAC, IP, IAC, DO, TM);
      else if ((b & 0x7f) === 0x1c) out.push(IAC, BRK, IAC, DO, TM);
      else out.push(b);
    }
    this.send([...out, 13, 10]);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A line as a terminal shows it: a lone CR (or CR NUL) goes back to the margin and overwrites. */
function asShown(line: string): string {
  let shown = '';
  for (const part of line.replace(/\0/g, '').split('\r')) shown = part + shown.slice(part.length);
  return shown;
}

/** A raw client: nc sends LF; `nc -C` sends CR LF. Neither interprets telnet bytes. */
async function netcat(port: number, crlf: boolean): Promise<LineClient & { say(l: string): void }> {
  const c = (await LineClient.connect(port)) as LineClient & { say(l: string): void };
  c.say = (l) => c.write(l + (crlf ? '\r\n' : '\n'));
  return c;
}

function telnetBytes(raw: Buffer): number {
  let n = 0;
  for (const b of raw) if (b === IAC) n++;
  return n;
}

let server: RunningServer;
let port: number;
let n = 0;
const unique = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer(['--flood-rate', '0', '--history-on-join', '0']);
  port = portOf(server, 'line');
});
afterAll(() => server.close());

describe('telnet and netcat on the line protocol', () => {
  test('netcat (LF line ends) never receives a single telnet byte', async () => {
    const tel = await TelnetClient.named(port, unique('tel'), { width: 40 });
    const nc = await netcat(port, false);
    await nc.expect(/Choose a name: /);
    const name = unique('nc');
    nc.say(name);
    await nc.expect(/^\* Welcome, /);
    tel.type('/join #日本');
    await tel.expect(/^\* You joined #日本/);
    for (const line of ['/help', '/join #日本', '/who', 'hello 本ナダ🎉', '/rooms', '/msg x y']) {
      nc.say(line);
    }
    await nc.expect(/No one is called x/, 10_000);
    tel.type('hi from telnet, a line long enough that telnet readers get it wrapped');
    await nc.expect(/<tel\d+> hi from telnet/, 10_000);
    expect(telnetBytes(nc.raw)).toBe(0);
    nc.close();
    tel.close();
  });

  test('nc -C (CR LF, never answers): one probe, drawn over at once; answered all the same', async () => {
    const nc = await netcat(port, true);
    await nc.expect(/Choose a name: /);
    nc.say(unique('ncc'));
    // Answered without an answer to the probe (the wait for one is bounded, not asserted).
    await nc.expect(/\* Welcome, /); // after the probe's bytes, on the same line to nc
    // The requests, then CR NUL, spaces over where a terminal drew them, CR NUL: a terminal
    // running nc -C shows nothing of it.
    const probe = Buffer.concat([REQUESTS, Buffer.from(`\r\0${' '.repeat(20)}\r\0`, 'latin1')]);
    const at = nc.raw.indexOf(probe);
    expect(at).toBeGreaterThan(0);
    // Before it, the prompt; after it, the welcome: nothing in between.
    expect(nc.raw.subarray(0, at).toString()).toMatch(/Choose a name: $/);
    expect(nc.raw.subarray(at + probe.length).toString()).toMatch(/^\* Welcome, /);
    nc.say('/help');
    nc.say('more lines');
    await nc.expect(/Commands:/);
    expect(telnetBytes(nc.raw)).toBe(REQUESTS.length / 3); // one IAC per request, once
    nc.close();
  });

  test('telnet: BINARY both ways; 8-bit text intact in both directions; /join #日本 is #日本', async () => {
    const tel = await TelnetClient.connect(port);
    await tel.expect(/Choose a name: $/);
    expect(telnetBytes(tel.raw)).toBe(0); // nothing before the client has shown it is telnet
    const name = unique('tomo');
    tel.type(name);
    await tel.expect(/^\* Welcome, /);
    // Each request exactly once, and the client agreed to binary both ways.
    expect(tel.received).toEqual([
      [DO, BINARY],
      [WILL, BINARY],
      [DO, SGA],
      [DO, NAWS],
      [DO, TTYPE],
    ]);
    expect(tel.binaryOut && tel.binaryIn).toBe(true);

    const nc = await LineClient.named(port, unique('nadia'));
    tel.type('本ナダ🎉 こんにちは');
    await nc.expect(new RegExp(`<${name}> 本ナダ🎉 こんにちは$`));
    nc.send('返事: 本ナダ🎉');
    await tel.expect(/<nadia\d+> 返事: 本ナダ🎉$/);
    tel.type('/join #日本');
    await tel.expect(/^\* You joined #日本/);
    expect(server.hub.room('#日本')).toBeDefined();
    expect(server.hub.rooms.list().some((r) => r.name.includes('\uFFFD'))).toBe(false);
    // Every line from a client we send 8-bit output to is followed by a carriage return.
    expect(tel.raw.includes(Buffer.from('\r* You joined #日本'))).toBe(true);
    nc.close();
    tel.close();
  });

  test('a telnet that cannot do binary mangles 本: the line is refused, never said or joined', async () => {
    const tel = await TelnetClient.named(port, unique('old'), { refuse: [BINARY] });
    expect(tel.binaryOut).toBe(false);
    // 本 is E6 9C AC: telnet takes 9C for its quit key (^\) and sends IAC BRK instead.
    tel.type('/join #日本');
    await tel.expect(/^! Your telnet client changed some characters of that line/);
    expect(server.hub.rooms.list().some((r) => r.name.includes('\uFFFD'))).toBe(false);
    // Its timing-mark request was answered, or telnet would stop showing output.
    expect(tel.received).toContainEqual([WONT, TM]);
    // Text without such bytes passes.
    tel.type('/join #中文');
    await tel.expect(/^\* You joined #中文/);
    tel.close();
  });

  test('NAWS: lines wrap to the window, continuation under the text; a resize re-wraps later lines', async () => {
    const width = 40;
    const tel = await TelnetClient.named(port, unique('narrow'), { width });
    // Even the welcome is wrapped: the name line waits for the client's answers.
    const welcome = tel.lines.findIndex((l) => l.startsWith('* Welcome, '));
    expect(tel.lines[welcome + 1]).toMatch(/^ {2}\S/);
    const nc = await LineClient.named(port, unique('wide'));
    const words = 'the quick brown fox jumps over the lazy dog and keeps on running far away';
    nc.send(words);
    const first = await tel.expect(/<wide\d+> the quick/);
    await tel.expect(/ away$/);
    const indent = first.indexOf('the quick');
    const at = tel.lines.indexOf(first);
    const rest = tel.lines.slice(
      at + 1,
      tel.lines.findIndex((l, i) => i > at && / away$/.test(l)) + 1,
    );
    expect(rest.length).toBeGreaterThan(1);
    for (const l of [first, ...rest]) expect(displayWidth(l)).toBeLessThanOrEqual(width);
    for (const l of rest) expect(l.slice(0, indent).trim()).toBe('');
    expect([first.slice(indent), ...rest.map((l) => l.trim())].join(' ')).toBe(words);

    // CJK: two columns each, broken between characters.
    nc.send('日本語のテキストはスペースがないので、どこで改行されるでしょうか');
    const cjk = await tel.expect(/<wide\d+> 日本語/);
    expect(displayWidth(cjk)).toBeLessThanOrEqual(width);

    tel.resize(70);
    await new Promise((r) => setTimeout(r, 100));
    nc.send(words + ' and back again');
    const wider = await tel.expect(/<wide\d+> the quick.*and keeps/);
    expect(displayWidth(wider)).toBeGreaterThan(width);
    expect(displayWidth(wider)).toBeLessThanOrEqual(70);
    nc.close();
    tel.close();
  });

  test('one message to readers of many widths is encoded once per width it does not fit', async () => {
    const room = `#w${++n}`;
    const widths = [40, 50, 60, 70, 80, 90, 100, 120];
    const readers = await Promise.all(
      widths.map((w) => TelnetClient.named(port, unique('w'), { width: w })),
    );
    const plain = await Promise.all([0, 1, 2].map(() => LineClient.named(port, unique('p'))));
    const speaker = await LineClient.named(port, unique('s'));
    for (const c of [...readers, speaker]) {
      if (c instanceof TelnetClient) c.type(`/join ${room}`);
      else c.send(`/join ${room}`);
    }
    for (const c of plain) c.send(`/join ${room}`);
    for (const c of [...readers]) await c.expect(new RegExp(`You joined ${room}`));
    for (const c of [...plain, speaker]) await c.expect(new RegExp(`You joined ${room}`));
    const before = server.hub.counters.encodings;
    speaker.send('short');
    for (const c of readers) await c.expect(/> short$/);
    expect(server.hub.counters.encodings - before).toBe(1);
    const long = 'x '.repeat(45).trim(); // 89 columns of text after a prefix of about 16
    const mid = server.hub.counters.encodings;
    speaker.send(long);
    for (const c of plain) await c.expect(/> x x/);
    // Every width narrower than the line gets its own wrapping; 120 and the plain readers share one.
    expect(server.hub.counters.encodings - mid).toBe(widths.filter((w) => w < 110).length + 1);
    for (const c of [...readers, ...plain, speaker]) c.close();
  });
});

describe('telnet negotiation cannot flood or loop', () => {
  test('an IAC DO flood that never reads is closed by its budget', async () => {
    const s = await startTestServer();
    const c = await LineClient.connect(portOf(s, 'line'));
    await c.expect(/Choose a name/);
    c.socket.pause();
    const flood = Buffer.alloc(3 * 100_000);
    for (let i = 0; i < flood.length; i += 3) flood.set([IAC, DO, TM], i);
    c.write(flood);
    c.socket.resume();
    await c.expect(/! Too many telnet negotiation requests$/);
    await c.waitClosed();
    // One answer per request within the budget (50), never the 100,000.
    expect(telnetBytes(c.raw)).toBeLessThan(60 + REQUESTS.length / 3);
    await s.close();
  });

  test('with flood control off, replies go through the send queue: a non-reader is evicted', async () => {
    const s = await startTestServer(['--flood-rate', '0', '--send-queue', '65536']);
    const c = await LineClient.connect(portOf(s, 'line'));
    await c.expect(/Choose a name/);
    c.socket.pause(); // never reads again
    const chunk = Buffer.alloc(3 * 20_000);
    for (let i = 0; i < chunk.length; i += 3) chunk.set([IAC, DO, TM], i);
    // Up to 60 MB of requests, in steps, until the server gives up on this reader.
    const deadline = Date.now() + 15_000;
    for (let sent = 0; sent < 1000 && !c.closed && Date.now() < deadline; sent++) {
      if (!c.socket.write(chunk)) await new Promise((r) => setTimeout(r, 5));
      if (s.hub.counters.sendQueueEvictions > 0) break;
    }
    expect(s.hub.counters.sendQueueEvictions).toBe(1);
    c.close();
    await s.close();
  });

  test('a client that asks again after every refusal is cut off; requests for a state already in force get no answer', async () => {
    const s = await startTestServer();
    const c = await LineClient.connect(portOf(s, 'line'));
    await c.expect(/Choose a name/);
    // Repeated requests for an option we agreed to: answered once.
    c.write(Buffer.from([IAC, WILL, NAWS, IAC, WILL, NAWS, IAC, WILL, NAWS]));
    c.write(Buffer.from([IAC, DO, BINARY, IAC, DO, BINARY]));
    c.write(Buffer.from([IAC, WONT, 99, IAC, DONT, 99]));
    await new Promise((r) => setTimeout(r, 200));
    const nawsAnswers = c.raw.toString('latin1').split('\xff\xfd\x1f').length - 1;
    expect(nawsAnswers).toBe(1); // our DO NAWS request, taken as the answer to its WILL
    expect(c.raw.includes(Buffer.from([IAC, DONT, 99]))).toBe(false);
    // A client that asks again whenever it is refused: a loop, ended by the budget.
    c.socket.on('data', (d: Buffer) => {
      if (d.includes(Buffer.from([IAC, WONT, 1]))) c.write(Buffer.from([IAC, DO, 1]));
    });
    c.write(Buffer.from([IAC, DO, 1]));
    await c.expect(/! Too many telnet negotiation requests$/);
    await c.waitClosed();
    await s.close();
  });
});
