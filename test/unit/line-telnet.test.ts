import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TokenBucket } from '../../src/core/flood.js';
import type { Clock } from '../../src/core/ports.js';
import { TelnetPeer } from '../../src/protocols/line/telnet-peer.js';
import {
  DO,
  DONT,
  IAC,
  Option,
  TelnetOptions,
  WILL,
  WONT,
  parseNaws,
  parseTerminalType,
  type OptionPolicy,
  type Verb,
} from '../../src/protocols/line/telnet.js';

const VERBS: Verb[] = [DO, DONT, WILL, WONT];
const all: OptionPolicy = { us: () => true, him: () => true };
const none: OptionPolicy = { us: () => false, him: () => false };

function cmd(verb: number, option: number): Buffer {
  return Buffer.from([IAC, verb, option]);
}

/** Splits a run of `IAC verb option` triples (what TelnetOptions sends) into commands. */
function commands(buf: Buffer | null): [Verb, number][] {
  const out: [Verb, number][] = [];
  if (buf === null) return out;
  for (let i = 0; i < buf.length; i += 3) {
    expect(buf[i]).toBe(IAC);
    out.push([buf[i + 1] as Verb, buf[i + 2] as number]);
  }
  return out;
}

describe('TelnetOptions (RFC 1143 Q method)', () => {
  test('agrees to options in the policy and refuses others', () => {
    const t = new TelnetOptions({ us: (o) => o === 0, him: (o) => o === 31 });
    expect(t.receive(DO, 0).reply).toEqual(cmd(WILL, 0));
    expect(t.usEnabled(0)).toBe(true);
    expect(t.receive(DO, 1).reply).toEqual(cmd(WONT, 1));
    expect(t.receive(WILL, 31).reply).toEqual(cmd(DO, 31));
    expect(t.himEnabled(31)).toBe(true);
    expect(t.receive(WILL, 24).reply).toEqual(cmd(DONT, 24));
  });

  test('a message that confirms the current state is never answered (no loops)', () => {
    const t = new TelnetOptions(all);
    t.receive(WILL, 3);
    expect(t.receive(WILL, 3)).toEqual({ reply: null, change: null });
    t.receive(DO, 0);
    expect(t.receive(DO, 0)).toEqual({ reply: null, change: null });
    // Off, and told "off" again: silence.
    expect(t.receive(WONT, 5)).toEqual({ reply: null, change: null });
    expect(t.receive(DONT, 5)).toEqual({ reply: null, change: null });
  });

  test('an answer to our own request is not answered; a second request is not sent', () => {
    const t = new TelnetOptions(all);
    expect(t.askHim(31)).toEqual(cmd(DO, 31));
    expect(t.askHim(31)).toBeNull(); // waiting for the answer
    expect(t.receive(WILL, 31)).toEqual({
      reply: null,
      change: { side: 'him', option: 31, enabled: true },
    });
    expect(t.askHim(31)).toBeNull(); // on already
    expect(t.offer(0)).toEqual(cmd(WILL, 0));
    expect(t.receive(DONT, 0)).toEqual({ reply: null, change: null }); // refused: stays off
    expect(t.usEnabled(0)).toBe(false);
    expect(t.offer(0)).toEqual(cmd(WILL, 0)); // may ask again later
  });

  test('turning an enabled option off is acknowledged once', () => {
    const t = new TelnetOptions(all);
    t.receive(WILL, 31);
    expect(t.receive(WONT, 31)).toEqual({
      reply: cmd(DONT, 31),
      change: { side: 'him', option: 31, enabled: false },
    });
    expect(t.receive(WONT, 31).reply).toBeNull();
  });

  test('two Q-method peers never loop and end agreeing, whatever they ask', () => {
    // Each side asks to enable some options at random moments; messages cross in flight.
    const policy = fc.record({
      us: fc.uniqueArray(fc.nat(7), { maxLength: 8 }),
      him: fc.uniqueArray(fc.nat(7), { maxLength: 8 }),
    });
    const step = fc.oneof(
      fc.record({ who: fc.constantFrom(0, 1), ask: fc.constantFrom('him', 'us'), o: fc.nat(7) }),
      fc.record({ who: fc.constantFrom(0, 1), deliver: fc.nat(3) }),
    );
    fc.assert(
      fc.property(policy, policy, fc.array(step, { maxLength: 40 }), (pa, pb, steps) => {
        const peers = [pa, pb].map(
          (p) => new TelnetOptions({ us: (o) => p.us.includes(o), him: (o) => p.him.includes(o) }),
        );
        // In-flight commands towards each peer, in order (TCP keeps order).
        const inbox: [Verb, number][][] = [[], []];
        let sent = 0;
        const send = (to: number, buf: Buffer | null) => {
          for (const c of commands(buf)) {
            inbox[to]!.push(c);
            sent++;
          }
        };
        const deliver = (who: number) => {
          const c = inbox[who]!.shift();
          if (c) send(1 - who, peers[who]!.receive(c[0], c[1]).reply);
        };
        for (const s of steps) {
          if ('ask' in s) {
            const p = peers[s.who]!;
            send(1 - s.who, s.ask === 'him' ? p.askHim(s.o) : p.offer(s.o));
          } else for (let k = 0; k <= s.deliver; k++) deliver(s.who);
        }
        // Drain: it must end, with a bounded number of messages.
        for (let guard = 0; inbox[0]!.length + inbox[1]!.length > 0; guard++) {
          expect(guard).toBeLessThan(1000);
          deliver(inbox[0]!.length > 0 ? 0 : 1);
        }
        expect(sent).toBeLessThanOrEqual(4 * (steps.length + 1));
        for (let o = 0; o < 8; o++) {
          expect(peers[0]!.usEnabled(o)).toBe(peers[1]!.himEnabled(o));
          expect(peers[0]!.himEnabled(o)).toBe(peers[1]!.usEnabled(o));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a refusing peer gets exactly one answer per request, never more', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...VERBS), fc.nat(255)), { maxLength: 60 }),
        (msgs) => {
          const t = new TelnetOptions(none);
          let replies = 0;
          for (const [v, o] of msgs) {
            const { reply } = t.receive(v, o);
            if (reply !== null) {
              replies++;
              // A refusal of a request to enable; nothing is ever enabled.
              expect(v === DO || v === WILL).toBe(true);
              expect(reply).toEqual(cmd(v === DO ? WONT : DONT, o));
            }
          }
          expect(replies).toBeLessThanOrEqual(msgs.length);
          for (const [, o] of msgs) expect(t.usEnabled(o) || t.himEnabled(o)).toBe(false);
        },
      ),
    );
  });
});

describe('subnegotiation parsing', () => {
  test('NAWS: width and height, 16 bits each (RFC 1073)', () => {
    expect(parseNaws(Buffer.from([0, 80, 0, 24]))).toEqual({ width: 80, height: 24 });
    expect(parseNaws(Buffer.from([1, 44, 0, 255]))).toEqual({ width: 300, height: 255 });
    expect(parseNaws(Buffer.from([0, 80, 0]))).toBeNull();
  });

  test('TERMINAL-TYPE IS: a printable ASCII name of at most 40 characters (RFC 1091)', () => {
    expect(parseTerminalType(Buffer.from('\0XTERM-256COLOR', 'latin1'))).toBe('xterm-256color');
    expect(parseTerminalType(Buffer.from('\x01XTERM', 'latin1'))).toBeNull(); // SEND, not IS
    expect(parseTerminalType(Buffer.from('\0', 'latin1'))).toBeNull();
    expect(parseTerminalType(Buffer.from(`\0${'A'.repeat(41)}`, 'latin1'))).toBeNull();
    expect(parseTerminalType(Buffer.from('\0VT\x1b100', 'latin1'))).toBeNull();
  });
});

class FakeClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
}

function peer(clock = new FakeClock(), burst = 50, rate = 5): TelnetPeer {
  return new TelnetPeer(new TokenBucket(burst, rate, clock));
}

/** Our requests, as a telnet client sees them. */
const REQUESTS = Buffer.concat([
  cmd(DO, Option.BINARY),
  cmd(WILL, Option.BINARY),
  cmd(DO, Option.SGA),
  cmd(DO, Option.NAWS),
  cmd(DO, Option.TTYPE),
]);

describe('TelnetPeer: when to negotiate', () => {
  test('a CR LF line: requests once, hidden under a carriage return and spaces', () => {
    const p = peer();
    const sent = p.lineEnd('crlf', true) as Buffer;
    expect(sent.subarray(0, REQUESTS.length)).toEqual(REQUESTS);
    const rest = sent.subarray(REQUESTS.length).toString('latin1');
    expect(rest).toBe(`\r\0${' '.repeat(20)}\r\0`);
    expect(p.mode).toBe('probed');
    expect(p.lineEnd('crlf', true)).toBeNull();
    // The client answers: it is telnet, and nothing is asked twice.
    expect(p.negotiate(WILL, Option.BINARY)).toEqual({ send: null, resized: false, flood: false });
    expect(p.mode).toBe('telnet');
  });

  test('a CR LF read apart from its line waits for the next line', () => {
    const p = peer();
    expect(p.lineEnd('crlf', false)).toBeNull();
    expect(p.mode).toBe('unknown');
  });

  test('CR NUL or any telnet command from the client: requests at once, not hidden', () => {
    expect(peer().lineEnd('crnul', false)).toEqual(REQUESTS);
    expect(peer().command(244)).toEqual(REQUESTS);
    // A client that asks first gets our requests and its answer in one write.
    const p = peer();
    const { send } = p.negotiate(DO, Option.TM);
    expect(send).toEqual(Buffer.concat([REQUESTS, cmd(WONT, Option.TM)]));
  });

  test("Debian telnet's answers: binary both ways, window size, terminal type", () => {
    const p = peer();
    p.lineEnd('crlf', true);
    // What inetutils telnet 2.4 answers (captured from the real client).
    expect(p.negotiate(WILL, Option.BINARY).send).toBeNull();
    expect(p.negotiate(DO, Option.BINARY).send).toBeNull();
    expect(p.negotiate(WILL, Option.SGA).send).toBeNull();
    expect(p.negotiate(WILL, Option.NAWS).send).toBeNull();
    expect(p.subnegotiation(Option.NAWS, Buffer.from([0, 100, 0, 30]))).toEqual({
      send: null,
      resized: true,
      flood: false,
    });
    expect([p.width, p.height]).toEqual([100, 30]);
    // WILL TERMINAL-TYPE is answered with SEND (RFC 1091).
    expect(p.negotiate(WILL, Option.TTYPE).send).toEqual(Buffer.from([255, 250, 24, 1, 255, 240]));
    p.subnegotiation(Option.TTYPE, Buffer.from('\0TMUX-256COLOR', 'latin1'));
    expect(p.terminalType).toBe('tmux-256color');
    expect(p.binaryInput && p.binaryOutput).toBe(true);
    // The same size again is no change; a new one is.
    expect(p.subnegotiation(Option.NAWS, Buffer.from([0, 100, 0, 30])).resized).toBe(false);
    expect(p.subnegotiation(Option.NAWS, Buffer.from([0, 60, 0, 20])).resized).toBe(true);
    expect(p.width).toBe(60);
  });

  test('we never offer WILL SGA or WILL ECHO (they switch telnet to character mode)', () => {
    const p = peer();
    p.command(241);
    expect(p.negotiate(DO, Option.SGA).send).toEqual(cmd(WONT, Option.SGA));
    expect(p.negotiate(DO, Option.ECHO).send).toEqual(cmd(WONT, Option.ECHO));
  });

  test('a window size for an option not enabled is ignored', () => {
    const p = peer();
    p.command(241);
    expect(p.subnegotiation(Option.NAWS, Buffer.from([0, 100, 0, 30])).resized).toBe(false);
    expect(p.width).toBe(0);
  });

  test('answers beyond the budget mean flood; answers that cost nothing are free', () => {
    const clock = new FakeClock();
    const p = peer(clock, 5, 1);
    p.command(241);
    // Confirmations of the state an option is in need no answer and cost nothing.
    for (let i = 0; i < 1000; i++) expect(p.negotiate(WONT, 99).flood).toBe(false);
    for (let i = 0; i < 5; i++) expect(p.negotiate(DO, Option.TM).flood).toBe(false);
    expect(p.negotiate(DO, Option.TM).flood).toBe(true);
    clock.t += 1000; // one more token a second
    expect(p.negotiate(DO, Option.TM).flood).toBe(false);
  });

  test('a trapped key inside a line that then holds invalid UTF-8 marks it mangled', () => {
    const p = peer();
    p.command(244); // IAC IP where telnet took 0x83 for ^C
    expect(p.lineMangled('\uFFFD')).toBe(true);
    expect(p.lineMangled('\uFFFD')).toBe(false); // only that line
    p.command(244); // a real ^C on a line of plain text
    expect(p.lineMangled('fine')).toBe(false);
  });
});
