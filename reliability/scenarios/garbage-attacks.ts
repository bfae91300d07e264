/**
 * The catalogue of hostile input, per listener: what an attacker sends, over one
 * connection of its own. Each attack writes its bytes, waits (bounded) for the server to
 * close, and reports whether it did and what it answered. None of them is a verdict on
 * its own: the scenario judges what they did to everyone else.
 */
import dgram from 'node:dgram';
import { encodeFrame } from '../../src/protocols/framed/codec.js';
import { RawConn } from '../lib/clients.js';
import type { Rng } from '../lib/rng.js';
import { handshake, OP, wsFrame } from '../lib/wsframe.js';

export type Listener = 'line' | 'framed' | 'irc' | 'http' | 'ws' | 'udp' | 'admin';

export interface Outcome {
  closedByServer: boolean;
  bytesIn: number;
  /** The first line the server answered, for the report. */
  answer?: string;
}

/** Where to attack: the server's listeners (a plain object, so a worker thread can hold it). */
export interface Target {
  port(listener: string): number;
  adminPath: string;
}

export interface Attack {
  listener: Listener;
  name: string;
  run(server: Target, rng: Rng, id: number): Promise<Outcome>;
}

const KiB = 1024;
const MiB = 1024 * 1024;
const IAC = 0xff;

/** Invalid UTF-8: overlong, surrogates, bytes that never occur, truncated sequences. */
const BAD_UTF8 = [
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff],
  [0xfe],
  [0x80],
  [0xbf, 0xbf],
  [0xf0, 0x9f],
  [0xe2, 0x82],
];
function badUtf8(rng: Rng, n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(Buffer.from('ok'), Buffer.from(rng.pick(BAD_UTF8)));
  }
  return Buffer.concat(parts);
}

interface RawOptions {
  /** Do not read what the server answers (the kernel buffers fill; the server must cope). */
  noRead?: boolean;
  /** How long to wait for the server to close after writing. */
  waitMs?: number;
  /** Wait for this text in the answer before each later chunk (a handshake). */
  awaitText?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes each chunk (a write the peer stops taking gives up after 3 s), then waits. */
async function raw(
  port: number,
  chunks: (Buffer | string)[],
  o: RawOptions = {},
): Promise<Outcome> {
  const c = await RawConn.connect(port);
  if (o.noRead) c.socket.pause();
  try {
    for (const [i, chunk] of chunks.entries()) {
      if (c.isClosed) break;
      if (i > 0 && o.awaitText) {
        const end = Date.now() + 3000;
        while (
          !c.head.toString('latin1').includes(o.awaitText) &&
          Date.now() < end &&
          !c.isClosed
        ) {
          await sleep(10);
        }
      }
      await Promise.race([c.write(chunk), sleep(3000)]);
    }
    const closedByServer = await c.closedWithin(o.waitMs ?? 1500);
    const answer = c.head.toString('latin1').split('\n')[0]?.slice(0, 120);
    return { closedByServer, bytesIn: c.bytesIn, ...(answer ? { answer } : {}) };
  } finally {
    c.destroy();
  }
}

const lines = (n: number, make: (i: number) => string): string =>
  Array.from({ length: n }, (_, i) => make(i)).join('\r\n') + '\r\n';

// ---- line protocol (telnet / netcat) ----------------------------------------------------
const line: Attack[] = [
  {
    listener: 'line',
    name: 'random bytes',
    run: (s, rng) => raw(s.port('line'), [rng.bytes(rng.int(1, 64) * KiB)]),
  },
  {
    listener: 'line',
    name: '4 MiB line, no line end',
    run: (s) => raw(s.port('line'), [Buffer.alloc(4 * MiB, 0x41)]),
  },
  {
    listener: 'line',
    name: '2 MiB of 100 KiB lines after a name',
    run: (s, _r, id) =>
      raw(s.port('line'), [
        `atk${id}\n`,
        ...Array.from({ length: 20 }, () => 'B'.repeat(100 * KiB) + '\n'),
      ]),
  },
  {
    listener: 'line',
    name: 'invalid UTF-8 as name and messages',
    run: (s, rng, id) =>
      raw(s.port('line'), [
        Buffer.concat([badUtf8(rng, 3), Buffer.from('\n')]),
        `atk${id}\n`,
        ...Array.from({ length: 8 }, () => Buffer.concat([badUtf8(rng, 20), Buffer.from('\n')])),
      ]),
  },
  {
    listener: 'line',
    name: 'telnet SB never ended (1 MiB)',
    run: (s) => raw(s.port('line'), [Buffer.from([IAC, 0xfa, 0x18]), Buffer.alloc(1 * MiB, 0x61)]),
  },
  {
    listener: 'line',
    name: 'telnet IAC DO x 200,000, never read',
    run: (s) => {
      const b = Buffer.alloc(600_000);
      for (let i = 0; i < b.length; i += 3) {
        b[i] = IAC;
        b[i + 1] = 0xfd;
        b[i + 2] = i % 251;
      }
      return raw(s.port('line'), [b], { noRead: true, waitMs: 3000 });
    },
  },
  {
    listener: 'line',
    name: 'broken IAC mix (IAC at ends, SB in SB, IAC IAC)',
    run: (s, rng, id) =>
      raw(s.port('line'), [
        Buffer.from([IAC]),
        Buffer.from([IAC, IAC, IAC, 0xfa, IAC, 0xfa, 0x01, IAC, 0xf0, IAC, 0xf0, IAC]),
        `atk${id}\n`,
        Buffer.concat([
          Buffer.from('hi '),
          Buffer.from([IAC, 0xfb, IAC]),
          rng.bytes(100),
          Buffer.from('\r\0\n'),
        ]),
        Buffer.from([IAC, 0xfa]),
      ]),
  },
  {
    listener: 'line',
    name: '1 MiB of NUL and of CR',
    run: (s) => raw(s.port('line'), [Buffer.alloc(MiB, 0), Buffer.alloc(MiB, 0x0d)]),
  },
  {
    listener: 'line',
    name: 'registered, 30 lines of random bytes',
    run: (s, rng, id) =>
      raw(s.port('line'), [
        `atk${id}\n`,
        ...Array.from({ length: 30 }, () => Buffer.concat([rng.bytes(200), Buffer.from('\n')])),
      ]),
  },
];

// ---- framed JSON ------------------------------------------------------------------------
function frameHeader(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length);
  return b;
}
/** A frame of one byte, `{`: not JSON. */
const BAD_BYTE_FRAME = Buffer.from([0, 0, 0, 1, 0x7b]);
const hello = (id: number): Buffer =>
  encodeFrame(JSON.stringify({ type: 'hello', name: `atk${id}` }));

const framed: Attack[] = [
  {
    listener: 'framed',
    name: 'random bytes',
    run: (s, rng) => raw(s.port('framed'), [rng.bytes(rng.int(1, 64) * KiB)]),
  },
  {
    listener: 'framed',
    name: 'length 0xFFFFFFFF',
    run: (s) => raw(s.port('framed'), [frameHeader(0xffffffff), Buffer.alloc(64 * KiB, 0x7b)]),
  },
  {
    listener: 'framed',
    name: 'length max-frame+1 (65537)',
    run: (s) => raw(s.port('framed'), [frameHeader(65537), Buffer.alloc(65537, 0x20)]),
  },
  {
    listener: 'framed',
    name: 'invalid JSON, invalid UTF-8, non-objects',
    run: (s, rng, id) => {
      const bodies = [
        Buffer.from('{'),
        Buffer.from('null'),
        Buffer.from('[1,2,3]'),
        Buffer.from('"type"'),
        Buffer.concat([
          Buffer.from('{"type":"hello","name":"'),
          badUtf8(rng, 4),
          Buffer.from('"}'),
        ]),
        Buffer.from(
          '{"type":"hello","name":"x","__proto__":{"admin":true},"constructor":{"prototype":{}}}',
        ),
        Buffer.from('{"type":"say","room":"#lobby","text":{"toString":1}}'),
        Buffer.from('{"type":"join","room":["#a","#b"]}'),
        rng.bytes(500),
      ];
      return raw(s.port('framed'), [
        ...bodies.map((b) => Buffer.concat([frameHeader(b.length), b])),
        hello(id),
        ...bodies.map((b) => Buffer.concat([frameHeader(b.length), b])),
      ]);
    },
  },
  {
    listener: 'framed',
    name: 'nested 60,000 deep',
    run: (s) => {
      const deep = Buffer.from('['.repeat(30_000) + ']'.repeat(30_000));
      const deepObj = Buffer.from('{"a":'.repeat(12_000) + '1' + '}'.repeat(12_000));
      return raw(s.port('framed'), [
        Buffer.concat([frameHeader(deep.length), deep]),
        Buffer.concat([frameHeader(deepObj.length), deepObj]),
      ]);
    },
  },
  {
    listener: 'framed',
    name: '100,000 empty frames, never read',
    run: (s) => raw(s.port('framed'), [Buffer.alloc(400_000, 0)], { noRead: true, waitMs: 3000 }),
  },
  {
    // Each one a JSON.parse that throws: before flood control counted invalid messages,
    // every one was parsed and answered as fast as it came (1.5 s of CPU for these).
    listener: 'framed',
    name: '100,000 one-byte invalid JSON frames, never read',
    run: (s) =>
      raw(
        s.port('framed'),
        [Buffer.concat(Array.from({ length: 100_000 }, () => BAD_BYTE_FRAME))],
        {
          noRead: true,
          waitMs: 3000,
        },
      ),
  },
  {
    listener: 'framed',
    name: '20,000 pings pipelined, never read',
    run: (s, _r, id) => {
      const ping = encodeFrame('{"type":"ping"}');
      return raw(
        s.port('framed'),
        [hello(id), Buffer.concat(Array.from({ length: 20_000 }, () => ping))],
        {
          noRead: true,
          waitMs: 3000,
        },
      );
    },
  },
  {
    listener: 'framed',
    name: 'huge fields (60 KiB name, text, room)',
    run: (s, _r, id) =>
      raw(s.port('framed'), [
        encodeFrame(JSON.stringify({ type: 'hello', name: 'n'.repeat(60 * KiB) })),
        hello(id),
        encodeFrame(JSON.stringify({ type: 'say', room: '#lobby', text: 'é'.repeat(30 * KiB) })),
        encodeFrame(JSON.stringify({ type: 'join', room: '#' + 'r'.repeat(60 * KiB) })),
        encodeFrame(
          JSON.stringify({
            type: 'history',
            room: '#lobby',
            limit: 1e12,
            before: 'x'.repeat(1000),
          }),
        ),
      ]),
  },
  {
    listener: 'framed',
    name: 'frame declared 60,000, 10 bytes sent',
    run: (s) =>
      raw(s.port('framed'), [frameHeader(60_000), Buffer.from('{"type":"h')], { waitMs: 500 }),
  },
];

// ---- IRC --------------------------------------------------------------------------------
const reg = (id: number): string => `NICK atk${id}\r\nUSER atk${id} 0 * :atk\r\n`;
const irc: Attack[] = [
  {
    listener: 'irc',
    name: 'random bytes',
    run: (s, rng) => raw(s.port('irc'), [rng.bytes(rng.int(1, 64) * KiB)]),
  },
  {
    listener: 'irc',
    name: '4 MiB line, no line end',
    run: (s) => raw(s.port('irc'), [Buffer.alloc(4 * MiB, 0x50)]),
  },
  {
    listener: 'irc',
    name: 'long lines and 100 KiB tags',
    run: (s, _r, id) =>
      raw(s.port('irc'), [
        reg(id),
        `PRIVMSG #lobby :${'x'.repeat(5000)}\r\n`,
        `@${'a=b;'.repeat(25_000)} PRIVMSG #lobby :tagged\r\n`,
        `@+draft/react=${'\\'.repeat(3000)} TAGMSG #lobby\r\n`,
        `@${';'.repeat(4000)} PING x\r\n`,
      ]),
  },
  {
    listener: 'irc',
    name: 'invalid UTF-8 in NICK, USER, PRIVMSG, TOPIC',
    run: (s, rng, id) =>
      raw(s.port('irc'), [
        Buffer.concat([Buffer.from('NICK '), badUtf8(rng, 2), Buffer.from('\r\n')]),
        Buffer.concat([
          Buffer.from(`NICK atk${id}\r\nUSER `),
          badUtf8(rng, 2),
          Buffer.from(' 0 * :'),
          badUtf8(rng, 5),
          Buffer.from('\r\n'),
        ]),
        Buffer.concat([Buffer.from('PRIVMSG #lobby :'), badUtf8(rng, 30), Buffer.from('\r\n')]),
        Buffer.concat([Buffer.from('JOIN #'), badUtf8(rng, 2), Buffer.from('\r\n')]),
      ]),
  },
  {
    listener: 'irc',
    name: 'target and mode floods',
    run: (s, _r, id) =>
      raw(s.port('irc'), [
        reg(id),
        `PRIVMSG ${Array.from({ length: 2000 }, (_, i) => `n${i}`).join(',')} :x\r\n`,
        `JOIN ${Array.from({ length: 500 }, (_, i) => `#a${id}x${i}`).join(',')}\r\n`,
        `JOIN #own${id}\r\nMODE #own${id} +${'b'.repeat(60)} ${Array.from({ length: 60 }, (_, i) => `m${i}!*@*`).join(' ')}\r\n`,
        `MODE #own${id} +${'klovbimnst'.repeat(40)} k 1 a b c\r\n`,
        `WHO ${'*a'.repeat(200)}b\r\n`,
        `WHOIS ${'*,'.repeat(200)}\r\n`,
        `ISON ${Array.from({ length: 200 }, (_, i) => `n${i}`).join(' ')}\r\n`,
        `PART ${Array.from({ length: 500 }, (_, i) => `#a${id}x${i}`).join(',')}\r\n`,
      ]),
  },
  {
    listener: 'irc',
    name: 'CAP and AUTHENTICATE garbage',
    run: (s, _r, id) =>
      raw(s.port('irc'), [
        'CAP LS 302\r\n',
        `CAP REQ :${'x '.repeat(200)}\r\n`,
        'CAP REQ :-\r\nCAP REQ :sasl\r\nCAP\r\nCAP FOO\r\n',
        'AUTHENTICATE PLAIN\r\n',
        lines(300, () => `AUTHENTICATE ${'A'.repeat(400)}`),
        `AUTHENTICATE *\r\n${reg(id)}CAP END\r\n`,
      ]),
  },
  {
    listener: 'irc',
    name: 'degenerate lines (:, @, spaces, NUL)',
    run: (s, _r, id) =>
      raw(s.port('irc'), [
        ':\r\n@\r\n \r\n:x\r\n@x\r\n@a :b\r\n' + ' '.repeat(500) + '\r\n',
        'PING\r\nNICK\r\nUSER\r\nPRIVMSG\r\nMODE\r\nKICK\r\nJOIN\r\n',
        Buffer.from(`NICK a\0b\r\n${reg(id)}PRIVMSG #lobby :a\0b\r\nPRIVMSG \0 :x\r\n`),
        `:${'p'.repeat(400)} PRIVMSG #lobby :prefixed\r\n`,
      ]),
  },
  {
    listener: 'irc',
    name: '20,000 PINGs pipelined, never read',
    run: (s, _r, id) =>
      raw(s.port('irc'), [reg(id), lines(20_000, (i) => `PING :${i}`)], {
        noRead: true,
        waitMs: 3000,
      }),
  },
];

// ---- HTTP -------------------------------------------------------------------------------
const http: Attack[] = [
  {
    listener: 'http',
    name: 'random bytes',
    run: (s, rng) => raw(s.port('http'), [rng.bytes(rng.int(1, 64) * KiB)]),
  },
  ...[
    'GET http://a:99999/ HTTP/1.1',
    'GET http://[::1/ HTTP/1.1',
    'GET http://%zz/ HTTP/1.1',
    'GET http://a:99999/ws HTTP/1.1',
    'GET https://user:pw@[fe80::1%25eth0]:0/healthz HTTP/1.1',
    'GET //evil/../../etc/passwd HTTP/1.1',
    'GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1',
    'GET /%ff%fe%00 HTTP/1.1',
    'OPTIONS * HTTP/1.1',
    'CONNECT 127.0.0.1:22 HTTP/1.1',
    'GET /healthz?ready&%zz=%&&== HTTP/1.1',
    'GET ' + '/a'.repeat(20_000) + ' HTTP/1.1',
  ].map((target): Attack => ({
    listener: 'http',
    name: `target ${target.length > 40 ? target.slice(0, 37) + '...' : target}`,
    run: (s) => raw(s.port('http'), [`${target}\r\nHost: a:99999\r\n\r\n`]),
  })),
  {
    listener: 'http',
    name: 'header floods (200 KiB value, 5,000 headers)',
    run: async (s) => {
      await raw(s.port('http'), [
        `GET / HTTP/1.1\r\nHost: x\r\nX: ${'v'.repeat(200 * KiB)}\r\n\r\n`,
      ]);
      return raw(s.port('http'), [`GET / HTTP/1.1\r\n${lines(5000, (i) => `H${i}: v`)}\r\n`]);
    },
  },
  {
    listener: 'http',
    name: 'bad bodies (chunk size overflow, CL+TE, negative CL)',
    run: async (s) => {
      await raw(s.port('http'), [
        'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nx\r\n',
      ]);
      await raw(s.port('http'), [
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n',
      ]);
      return raw(s.port('http'), ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n']);
    },
  },
  {
    listener: 'http',
    name: 'odd request lines (HTTP/0.9, 9.9, lowercase, NUL)',
    run: async (s) => {
      await raw(s.port('http'), ['GET /\n']);
      await raw(s.port('http'), ['GET / HTTP/9.9\r\n\r\n']);
      await raw(s.port('http'), ['get / http/1.1\r\nhost: x\r\n\r\n']);
      return raw(s.port('http'), [Buffer.from('GET / HTTP/1.1\r\nHost: a\0b\r\nX-\0: y\r\n\r\n')]);
    },
  },
  {
    listener: 'http',
    name: '3,000 pipelined GET /healthz, never read',
    run: (s) =>
      raw(s.port('http'), ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3000)], {
        noRead: true,
        waitMs: 3000,
      }),
  },
  {
    listener: 'http',
    name: 'bad upgrades (key, version, path, host, origin)',
    run: async (s) => {
      const p = s.port('http');
      const bad = [
        handshake(p, []).replace(/Sec-WebSocket-Key: .*\r\n/, 'Sec-WebSocket-Key: !!!\r\n'),
        handshake(p, []).replace('Version: 13', 'Version: 8'),
        handshake(p, [], '/not-ws'),
        handshake(p, [], 'http://a:99999/ws'),
        handshake(p, []).replace(`Host: 127.0.0.1:${p}`, 'Host: a:99999'),
        handshake(p, ['Origin: http://evil.example']),
        handshake(p, ['Origin: null']),
        handshake(p, ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99']),
      ];
      let last: Outcome = { closedByServer: false, bytesIn: 0 };
      for (const h of bad) last = await raw(p, [h], { waitMs: 800 });
      return last;
    },
  },
];

// ---- WebSocket frames after a good handshake ------------------------------------------------
function afterHandshake(frames: (p: number, id: number) => Buffer[], o: RawOptions = {}) {
  return (s: Target, _r: Rng, id: number): Promise<Outcome> => {
    const p = s.port('http');
    return raw(p, [handshake(p), ...frames(p, id)], { awaitText: '\r\n\r\n', ...o });
  };
}
const text = (s: string | Buffer, o = {}): Buffer => wsFrame(OP.text, Buffer.from(s), o);
const helloWs = (id: number): Buffer => text(JSON.stringify({ type: 'hello', name: `atk${id}` }));

const ws: Attack[] = [
  {
    listener: 'ws',
    name: 'random bytes after handshake',
    run: (s, rng, id) => afterHandshake(() => [rng.bytes(rng.int(1, 32) * KiB)])(s, rng, id),
  },
  {
    listener: 'ws',
    name: 'unmasked frame',
    run: afterHandshake(() => [text('{"type":"ping"}', { mask: false })]),
  },
  {
    listener: 'ws',
    name: 'RSV bits set',
    run: afterHandshake(() => [text('{"type":"ping"}', { rsv: 7 })]),
  },
  {
    listener: 'ws',
    name: 'reserved opcodes 3 and 0xB',
    run: afterHandshake(() => [wsFrame(3, Buffer.from('x')), wsFrame(0xb, Buffer.from('x'))]),
  },
  {
    listener: 'ws',
    name: '64-bit length 2^63-1',
    run: afterHandshake(() => [
      wsFrame(OP.text, Buffer.alloc(1000, 0x61), { claimedLength: 2n ** 63n - 1n }),
    ]),
  },
  {
    listener: 'ws',
    name: 'control frames: 126-byte ping, fragmented ping',
    run: afterHandshake(() => [
      wsFrame(OP.ping, Buffer.alloc(126)),
      wsFrame(OP.ping, Buffer.from('x'), { fin: false }),
    ]),
  },
  {
    listener: 'ws',
    name: 'continuation without a start',
    run: afterHandshake(() => [wsFrame(OP.continuation, Buffer.from('{"type":"ping"}'))]),
  },
  {
    listener: 'ws',
    name: 'invalid UTF-8 text',
    run: afterHandshake((_p, id) => [
      helloWs(id),
      text(Buffer.from([0x7b, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x7d])),
    ]),
  },
  {
    listener: 'ws',
    name: 'binary frame',
    run: afterHandshake((_p, id) => [
      helloWs(id),
      wsFrame(OP.binary, Buffer.from('{"type":"ping"}')),
    ]),
  },
  {
    listener: 'ws',
    name: 'close codes 999 and 1-byte close',
    run: afterHandshake(() => [
      wsFrame(OP.close, Buffer.from([0x03, 0xe7])),
      wsFrame(OP.close, Buffer.from([1])),
    ]),
  },
  {
    listener: 'ws',
    name: '100 KiB message (over max-frame)',
    run: afterHandshake((_p, id) => [helloWs(id), text('"' + 'x'.repeat(100 * KiB) + '"')]),
  },
  {
    listener: 'ws',
    name: '100,000 one-byte fragments',
    run: afterHandshake(() => {
      const parts = [wsFrame(OP.text, Buffer.from('['), { fin: false })];
      for (let i = 0; i < 100_000; i++)
        parts.push(wsFrame(OP.continuation, Buffer.from(' '), { fin: false }));
      return [Buffer.concat(parts)];
    }),
  },
  {
    listener: 'ws',
    name: '20,000 pings, never read',
    run: afterHandshake(
      () => [
        Buffer.concat(Array.from({ length: 20_000 }, () => wsFrame(OP.ping, Buffer.alloc(100)))),
      ],
      {
        noRead: true,
        waitMs: 3000,
      },
    ),
  },
  {
    listener: 'ws',
    name: 'garbage JSON and prototype keys',
    run: afterHandshake((_p, id) => [
      text('{'),
      text('[]'),
      text('{"type":"__proto__"}'),
      text('{"type":"hello","name":"x","__proto__":{"isAdmin":true}}'),
      helloWs(id),
      text('{"type":"say","room":"#lobby","text":null}'),
      text('{"type":"history","room":"#lobby","limit":-1}'),
      text(JSON.stringify({ type: 'join', room: '#' + 'z'.repeat(20_000) })),
    ]),
  },
];

// ---- UDP echo ---------------------------------------------------------------------------
const udp: Attack[] = [
  {
    listener: 'udp',
    name: '2,000 random datagrams (0-65,507 bytes)',
    run: async (s, rng) => {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.3', () => r()));
      let bytesIn = 0;
      sock.on('message', (m) => (bytesIn += m.length));
      sock.on('error', () => {});
      const port = s.port('udp');
      for (let i = 0; i < 2000; i++) {
        const size = rng.pick([0, 1, 4, 512, 1472, 9000, 65507, rng.int(0, 65507)]);
        await new Promise<void>((r) => sock.send(rng.bytes(size), port, '127.0.0.1', () => r()));
      }
      await sleep(300);
      sock.close();
      return { closedByServer: false, bytesIn };
    },
  },
];

// ---- admin socket -------------------------------------------------------------------------
async function adminRaw(
  s: Target,
  chunks: (Buffer | string)[],
  o: RawOptions = {},
): Promise<Outcome> {
  const net = await import('node:net');
  const c = net.connect(s.adminPath);
  let bytesIn = 0;
  await new Promise<void>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  c.on('error', () => {});
  if (o.noRead) c.pause();
  else c.on('data', (d: Buffer) => (bytesIn += d.length));
  let closed = false;
  c.on('close', () => (closed = true));
  try {
    for (const chunk of chunks) {
      await Promise.race([new Promise<void>((r) => c.write(chunk, () => r())), sleep(3000)]);
    }
    await sleep(o.waitMs ?? 500);
    return { closedByServer: closed, bytesIn };
  } finally {
    c.destroy();
  }
}

const admin: Attack[] = [
  { listener: 'admin', name: 'random bytes', run: (s, rng) => adminRaw(s, [rng.bytes(64 * KiB)]) },
  {
    listener: 'admin',
    name: '8 MiB line, no line end',
    run: (s) => adminRaw(s, [Buffer.alloc(8 * MiB, 0x73)]),
  },
  {
    listener: 'admin',
    name: '5,000 stats pipelined, never read',
    run: (s) => adminRaw(s, ['stats\n'.repeat(5000)], { noRead: true, waitMs: 1500 }),
  },
  {
    listener: 'admin',
    name: 'escape sequences and invalid UTF-8 as commands',
    run: (s, rng) =>
      adminRaw(s, [
        Buffer.concat([
          Buffer.from('\x1b[2J\x1b]0;x\x07'),
          badUtf8(rng, 10),
          Buffer.from('\nsay \x1b[31mred\r\n'),
        ]),
      ]),
  },
];

export const attacks: Attack[] = [...line, ...framed, ...irc, ...http, ...ws, ...udp, ...admin];
