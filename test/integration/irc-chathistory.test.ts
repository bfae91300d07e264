/**
 * IRCv3 draft/chathistory over real sockets: every subcommand with msgid= and timestamp=
 * references, the batch and its tags, the limits (ISUPPORT CHATHISTORY, the clamp, the
 * send queue on a long answer), the FAIL replies, private history between accounts and
 * TARGETS.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RawIrcClient } from '../helpers/irc-client.js';
import { ask, ircClient, tagsOf, untag } from '../helpers/irc-setup.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

const PAGE_MAX = 40;
let server: RunningServer;
let irc: number;
let n = 0;
const unique = (base: string) => `${base}${(++n).toString(36)}${Date.now().toString(36).slice(-3)}`;
const CAPS = 'batch server-time message-tags echo-message draft/chathistory';

beforeAll(async () => {
  server = await startTestServer([
    '--irc-port',
    '0',
    '--flood-rate',
    '0',
    '--history-page',
    String(PAGE_MAX),
    '--history-ring',
    '1000',
    '--send-queue',
    '8192',
    // Accounts for several tests, all from 127.0.0.1.
    '--register-burst',
    '20',
  ]);
  irc = portOf(server, 'irc');
});
afterAll(() => server.close());

/** Registers with `caps` ('': no CAP at all). */
const client = (nick: string, caps = CAPS) => ircClient(irc, nick, caps);

interface Sent {
  id: string;
  time: string;
  text: string;
}

/** The texts of the PRIVMSGs of one chathistory batch for `target`, checked for shape. */
function batchTexts(lines: string[], target: string): string[] {
  const open = lines[0] ?? '';
  const m = /^:\S+ BATCH \+(\S+) chathistory (\S+)$/.exec(open);
  expect(m, lines.join('\n')).not.toBeNull();
  expect(m?.[2]).toBe(target);
  const id = m?.[1] as string;
  expect(lines[lines.length - 1]).toMatch(new RegExp(`^:\\S+ BATCH -${id}$`));
  const inner = lines.slice(1, -1);
  for (const l of inner) expect(tagsOf(l).batch).toBe(id);
  return inner.map((l) => l.slice(l.indexOf(' :', l.indexOf(' PRIVMSG ')) + 2));
}

/** Says `count` messages in `room` a few ms apart (distinct times), from their echoes. */
async function say(c: RawIrcClient, room: string, count: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (let i = 0; i < count; i++) {
    const text = `message ${i} in ${room}`;
    c.send(`PRIVMSG ${room} :${text}`);
    const echo = await c.expect(new RegExp(` PRIVMSG ${room} :${text}$`));
    const tags = tagsOf(echo);
    sent.push({ id: tags.msgid as string, time: tags.time as string, text });
    await new Promise((r) => setTimeout(r, 3));
  }
  return sent;
}

describe('a channel', () => {
  let c: RawIrcClient;
  let room: string;
  let sent: Sent[];
  const texts = (from: number, to?: number) => sent.slice(from, to).map((s) => s.text);
  const history = async (line: string) => batchTexts(await ask(c, line), room);

  beforeAll(async () => {
    c = await client(unique('ch'));
    room = `#${unique('hist')}`;
    await ask(c, `JOIN ${room}`);
    sent = await say(c, room, 10);
    expect(new Set(sent.map((s) => s.time)).size).toBe(10);
  });
  afterAll(() => c.close());

  test('ISUPPORT names the limit and the reference types', async () => {
    const other = await client(unique('is'));
    const lines = other.lines.filter((l) => / 005 /.test(l)).join(' ');
    expect(lines).toContain(` CHATHISTORY=${PAGE_MAX} `);
    expect(lines).toContain(' MSGREFTYPES=msgid,timestamp ');
    other.close();
  });

  test('LATEST: the newest messages, or those after a reference', async () => {
    expect(await history(`CHATHISTORY LATEST ${room} * 100`)).toEqual(texts(0));
    expect(await history(`CHATHISTORY LATEST ${room} * 3`)).toEqual(texts(7));
    expect(await history(`CHATHISTORY LATEST ${room} msgid=${sent[4]?.id} 100`)).toEqual(texts(5));
    expect(await history(`CHATHISTORY LATEST ${room} timestamp=${sent[4]?.time} 2`)).toEqual(
      texts(8),
    );
  });

  test('BEFORE and AFTER page from a reference, exclusively', async () => {
    expect(await history(`CHATHISTORY BEFORE ${room} msgid=${sent[6]?.id} 100`)).toEqual(
      texts(0, 6),
    );
    expect(await history(`CHATHISTORY BEFORE ${room} timestamp=${sent[6]?.time} 2`)).toEqual(
      texts(4, 6),
    );
    expect(await history(`CHATHISTORY AFTER ${room} msgid=${sent[3]?.id} 3`)).toEqual(texts(4, 7));
    expect(await history(`CHATHISTORY AFTER ${room} timestamp=${sent[3]?.time} 100`)).toEqual(
      texts(4),
    );
  });

  test('BETWEEN counts from the first reference, whichever way it goes', async () => {
    const [first, last] = [sent[0] as Sent, sent[9] as Sent];
    expect(
      await history(`CHATHISTORY BETWEEN ${room} msgid=${first.id} msgid=${last.id} 3`),
    ).toEqual(texts(1, 4));
    expect(
      await history(`CHATHISTORY BETWEEN ${room} msgid=${last.id} msgid=${first.id} 3`),
    ).toEqual(texts(6, 9));
    expect(
      await history(`CHATHISTORY BETWEEN ${room} timestamp=${first.time} msgid=${last.id} 100`),
    ).toEqual(texts(1, 9));
  });

  test('AROUND: the message named, and its neighbours', async () => {
    expect(await history(`CHATHISTORY AROUND ${room} msgid=${sent[7]?.id} 1`)).toEqual(texts(7, 8));
    expect(await history(`CHATHISTORY AROUND ${room} msgid=${sent[7]?.id} 3`)).toEqual(texts(6, 9));
    expect(await history(`CHATHISTORY AROUND ${room} timestamp=${sent[2]?.time} 4`)).toEqual(
      texts(0, 4),
    );
  });

  test('each line carries the original msgid and time; the ids are those of live delivery', async () => {
    const lines = (await ask(c, `CHATHISTORY LATEST ${room} * 10`)).slice(1, -1);
    expect(lines.map((l) => tagsOf(l).msgid)).toEqual(sent.map((s) => s.id));
    expect(lines.map((l) => tagsOf(l).time)).toEqual(sent.map((s) => s.time));
  });

  test('labeled: the chathistory batch nests in the labeled-response batch', async () => {
    const labeled = await client(unique('lb'), `${CAPS} labeled-response`);
    await ask(labeled, `JOIN ${room}`);
    const lines = await ask(labeled, `@label=h1 CHATHISTORY LATEST ${room} * 2`);
    expect(lines).toHaveLength(6);
    const outer = /^@label=h1 :\S+ BATCH \+(\S+) labeled-response$/.exec(lines[0] ?? '')?.[1];
    expect(outer).toBeDefined();
    // The inner batch's own lines are in the outer batch; its messages only in the inner.
    expect(tagsOf(lines[1] as string).batch).toBe(outer);
    expect(tagsOf(lines[4] as string).batch).toBe(outer);
    const inner = /BATCH \+(\S+) chathistory /.exec(lines[1] ?? '')?.[1];
    for (const l of lines.slice(2, 4)) {
      expect(l.match(/batch=/g)).toHaveLength(1);
      expect(tagsOf(l).batch).toBe(inner);
    }
    const unwrapped = [untag(lines[1] as string), ...lines.slice(2, 4), untag(lines[4] as string)];
    expect(batchTexts(unwrapped, room)).toEqual(texts(8));
    expect(tagsOf(lines[5] as string).batch ?? null).toBeNull();
    labeled.close();
  });

  test('a limit above the server maximum is the maximum', async () => {
    const big = `#${unique('big')}`;
    await ask(c, `JOIN ${big}`);
    await say(c, big, PAGE_MAX + 5);
    expect(batchTexts(await ask(c, `CHATHISTORY LATEST ${big} * 100000`), big)).toHaveLength(
      PAGE_MAX,
    );
  });

  test('without batch: the bare lines; without message-tags: no tags', async () => {
    const plain = await client(unique('pl'), 'draft/chathistory');
    await ask(plain, `JOIN ${room}`);
    const lines = await ask(plain, `CHATHISTORY LATEST ${room} * 2`);
    expect(lines).toEqual(
      sent
        .slice(8)
        .map((s) => expect.stringMatching(new RegExp(`^:\\S+ PRIVMSG ${room} :${s.text}$`))),
    );
    plain.close();
  });

  test('long messages are cut to 512-byte lines as live delivery cuts them', async () => {
    // Text from telnet may be far longer than an IRC line: live delivery splits it, and
    // so does history.
    const long = `#${unique('long')}`;
    await ask(c, `JOIN ${long}`);
    const writer = await LineClient.named(portOf(server, 'line'), unique('lw'));
    writer.send(`/join ${long}`);
    await writer.expect(/^\* You joined/);
    const text = 'é'.repeat(300) + 'x'.repeat(300); // 900 bytes
    writer.send(text);
    const live: string[] = [];
    for (;;) {
      const l = await c.expect(new RegExp(` PRIVMSG ${long} :`));
      live.push(l.slice(l.indexOf(` ${long} :`) + long.length + 3));
      if (live.join('') === text) break;
    }
    const inner = (await ask(c, `CHATHISTORY LATEST ${long} * 10`)).slice(1, -1);
    expect(inner.length).toBe(live.length);
    expect(inner.length).toBeGreaterThan(1);
    for (const l of inner) expect(Buffer.byteLength(untag(l)) + 2).toBeLessThanOrEqual(512);
    expect(inner.map((l) => l.slice(l.indexOf(` ${long} :`) + long.length + 3))).toEqual(live);
    writer.close();
  });

  test('an answer larger than the send queue reaches a reader whole, and it stays', async () => {
    // 40 messages of ~300 bytes are 12 KB, past the 8 KB send queue. (The pacing that
    // keeps a reader slower than loopback from being closed for it is core/pacer.ts's.)
    const wide = `#${unique('wide')}`;
    await ask(c, `JOIN ${wide}`);
    for (let i = 0; i < PAGE_MAX; i++) {
      c.send(`PRIVMSG ${wide} :${String(i).padStart(3, '0')} ${'y'.repeat(300)}`);
    }
    await ask(c, 'PING :sent');
    const got = batchTexts(await ask(c, `CHATHISTORY LATEST ${wide} * ${PAGE_MAX}`), wide);
    expect(got.map((t) => t.slice(0, 3))).toEqual(
      Array.from({ length: PAGE_MAX }, (_, i) => String(i).padStart(3, '0')),
    );
    expect((await ask(c, 'PING :alive')).map(untag)).toEqual([
      expect.stringMatching(/ PONG \S+ :?alive$/),
    ]);
  });
});

describe('FAIL replies', () => {
  let c: RawIrcClient;
  let room: string;
  beforeAll(async () => {
    c = await client(unique('fl'));
    room = `#${unique('fail')}`;
    await ask(c, `JOIN ${room}`);
  });
  afterAll(() => c.close());

  test.each([
    ['CHATHISTORY', /^:\S+ 461 \S+ CHATHISTORY /],
    ['CHATHISTORY SIDEWAYS #x * 10', /^:\S+ FAIL CHATHISTORY INVALID_PARAMS SIDEWAYS :/],
    ['CHATHISTORY LATEST #x *', /^:\S+ FAIL CHATHISTORY NEED_MORE_PARAMS LATEST :/],
    ['CHATHISTORY BETWEEN #x msgid=1 10', /^:\S+ FAIL CHATHISTORY NEED_MORE_PARAMS BETWEEN :/],
    ['CHATHISTORY LATEST ROOM msgid=abc 10', /^:\S+ FAIL CHATHISTORY INVALID_PARAMS LATEST :/],
    [
      'CHATHISTORY BEFORE ROOM timestamp=2020-13-01T00:00:00Z 10',
      /FAIL CHATHISTORY INVALID_PARAMS BEFORE :/,
    ],
    ['CHATHISTORY BEFORE ROOM * 10', /FAIL CHATHISTORY INVALID_PARAMS BEFORE :/],
    [
      'CHATHISTORY AFTER ROOM msgid=99999999999999999999 10',
      /FAIL CHATHISTORY INVALID_PARAMS AFTER :/,
    ],
    ['CHATHISTORY LATEST ROOM * ten', /FAIL CHATHISTORY INVALID_PARAMS LATEST :/],
    ['CHATHISTORY LATEST ROOM * 0', /FAIL CHATHISTORY INVALID_PARAMS LATEST :/],
    [
      'CHATHISTORY TARGETS msgid=1 timestamp=2020-01-01T00:00:00.000Z 10',
      /FAIL CHATHISTORY INVALID_PARAMS TARGETS :/,
    ],
    [
      'CHATHISTORY LATEST #no-such-room-here * 10',
      /FAIL CHATHISTORY INVALID_TARGET LATEST #no-such-room-here :/,
    ],
  ])('%s', async (line, want) => {
    const lines = (await ask(c, line.replace('ROOM', room))).map(untag);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(want);
  });

  test('a channel one is not in, a secret one and one that does not exist answer alike', async () => {
    const owner = await client(unique('ow'));
    const open = `#${unique('open')}`;
    const secret = `#${unique('sec')}`;
    await ask(owner, `JOIN ${open},${secret}`);
    await ask(owner, `MODE ${secret} +s`);
    await say(owner, open, 1);
    await say(owner, secret, 1);
    for (const target of [open, secret, `#${unique('none')}`]) {
      const lines = (await ask(c, `CHATHISTORY LATEST ${target} * 10`)).map(untag);
      expect(lines.map((l) => l.replace(target, 'T'))).toEqual([
        expect.stringMatching(
          /^:\S+ FAIL CHATHISTORY INVALID_TARGET LATEST T :Messages could not be retrieved$/,
        ),
      ]);
    }
    owner.close();
  });

  test("a FAIL names the target through the cleaning rule: the asker's controls do not come back", async () => {
    for (const target of ['#no\x1b[31mred', 'bi\u202edi', '\x07bell']) {
      const lines = await ask(c, `CHATHISTORY LATEST ${target} * 10`);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/ FAIL CHATHISTORY INVALID_TARGET LATEST \S+ :/);
      expect(lines[0]).not.toMatch(/[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]/);
    }
    const marker = await ask(c, 'MARKREAD #x\x1b]0;title\x07y timestamp=2026-01-01T00:00:00.000Z');
    expect(marker).toHaveLength(1);
    expect(marker[0]).toMatch(/ FAIL MARKREAD INVALID_TARGET \S+ :/);
    expect(marker[0]).not.toMatch(/[\x00-\x1f\x7f]/);
  });

  test('a guest has no private history', async () => {
    const name = unique('gu');
    const other = await client(name);
    const lines = await ask(c, `CHATHISTORY LATEST ${name} * 10`);
    expect(lines).toEqual([expect.stringMatching(/ FAIL CHATHISTORY INVALID_TARGET LATEST \S+ :/)]);
    other.close();
  });
});

describe('private history and TARGETS', () => {
  async function account(nick: string): Promise<RawIrcClient> {
    const c = await client(nick);
    c.send('PRIVMSG NickServ :REGISTER correct-horse');
    await c.expect(/ is now registered to you/);
    return c;
  }

  test('the conversation of two accounts, either way round; TARGETS lists rooms and people', async () => {
    const [annNick, bobNick, eveNick] = [unique('ann'), unique('bob'), unique('eve')];
    const ann = await account(annNick);
    const bob = await account(bobNick);
    const eve = await account(eveNick);
    const room = `#${unique('tg')}`;
    await ask(ann, `JOIN ${room}`);
    const start = new Date(Date.now() - 1000).toISOString();
    await say(ann, room, 1);
    await new Promise((r) => setTimeout(r, 5));
    for (const [from, to, text] of [
      [ann, bobNick, 'hello bob'],
      [bob, annNick, 'hello ann'],
      [ann, bobNick, 'how are you'],
    ] as const) {
      from.send(`PRIVMSG ${to} :${text}`);
      await from.expect(new RegExp(` PRIVMSG ${to} :${text}$`));
    }
    await new Promise((r) => setTimeout(r, 5));
    eve.send(`PRIVMSG ${annNick} :eve here`);
    await ann.expect(/ PRIVMSG \S+ :eve here$/);

    const fromAnn = await ask(ann, `CHATHISTORY LATEST ${bobNick.toUpperCase()} * 10`);
    expect(batchTexts(fromAnn, bobNick.toUpperCase())).toEqual([
      'hello bob',
      'hello ann',
      'how are you',
    ]);
    // Addressed as they were: to bob, to ann, to bob.
    expect(fromAnn.slice(1, -1).map((l) => / PRIVMSG (\S+) /.exec(l)?.[1])).toEqual([
      bobNick,
      annNick,
      bobNick,
    ]);
    const fromBob = await ask(
      bob,
      `CHATHISTORY BEFORE ${annNick} timestamp=2262-01-01T00:00:00.000Z 2`,
    );
    expect(batchTexts(fromBob, annNick)).toEqual(['hello ann', 'how are you']);
    // Eve's conversation with ann is not bob's to read.
    expect(batchTexts(await ask(bob, `CHATHISTORY LATEST ${eveNick} * 10`), eveNick)).toEqual([]);

    const end = '2262-01-01T00:00:00.000Z';
    const targets = await ask(ann, `CHATHISTORY TARGETS timestamp=${start} timestamp=${end} 10`);
    expect(targets[0]).toMatch(/^:\S+ BATCH \+(\S+) draft\/chathistory-targets$/);
    const listed = targets
      .slice(1, -1)
      .map((l) => / CHATHISTORY TARGETS (\S+) (\S+)$/.exec(l)?.slice(1, 3));
    expect(listed.map((t) => t?.[0])).toEqual([room, bobNick, eveNick]);
    for (const t of listed) expect(t?.[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const two = await ask(ann, `CHATHISTORY TARGETS timestamp=${end} timestamp=${start} 2`);
    expect(two.slice(1, -1).map((l) => / TARGETS (\S+) /.exec(l)?.[1])).toEqual([room, bobNick]);
    for (const c of [ann, bob, eve]) c.close();
  });

  test("an account's conversation with a guest is kept for the account alone, not for the guest's name", async () => {
    const [annNick, guestNick, otherNick] = [unique('ann'), unique('gst'), unique('oth')];
    const ann = await account(annNick);
    const guest = await client(guestNick);
    ann.send(`PRIVMSG ${guestNick} :hello guest`);
    await guest.expect(/ PRIVMSG \S+ :hello guest$/);
    guest.send(`PRIVMSG ${annNick} :hello ann`);
    await ann.expect(/ PRIVMSG \S+ :hello ann$/);
    // Two guests: nobody identified, nothing kept (nobody could ever read it).
    const other = await client(otherNick);
    other.send(`PRIVMSG ${guestNick} :between guests`);
    await guest.expect(/ PRIVMSG \S+ :between guests$/);

    const page = await ask(ann, `CHATHISTORY LATEST ${guestNick} * 10`);
    expect(batchTexts(page, guestNick)).toEqual(['hello guest', 'hello ann']);
    expect(page.slice(1, -1).map((l) => / PRIVMSG (\S+) /.exec(l)?.[1])).toEqual([
      guestNick,
      annNick,
    ]);
    // The guest has no private history to read, this one included.
    expect((await ask(guest, `CHATHISTORY LATEST ${annNick} * 10`)).map(untag)).toEqual([
      expect.stringMatching(/^:\S+ FAIL CHATHISTORY INVALID_TARGET LATEST \S+ :/),
    ]);
    guest.close();
    await ann.expect(new RegExp(`^:${guestNick}!\\S+ QUIT `)).catch(() => {});

    // The guest is gone; the account still has the conversation, and TARGETS lists it.
    expect(batchTexts(await ask(ann, `CHATHISTORY LATEST ${guestNick} * 10`), guestNick)).toEqual([
      'hello guest',
      'hello ann',
    ]);
    const targets = await ask(
      ann,
      'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2262-01-01T00:00:00.000Z 10',
    );
    expect(targets.slice(1, -1).map((l) => / TARGETS (\S+) /.exec(l)?.[1])).toEqual([guestNick]);

    // Whoever takes the name next, and registers it, reads nothing of it.
    let heir: RawIrcClient | null = null;
    for (let i = 0; i < 50 && heir === null; i++) {
      heir = await account(guestNick).catch(async () => {
        await new Promise((r) => setTimeout(r, 50));
        return null;
      });
    }
    expect(heir).not.toBeNull();
    const mine = await ask(heir as RawIrcClient, `CHATHISTORY LATEST ${annNick} * 10`);
    expect(batchTexts(mine, annNick)).toEqual([]);
    const theirs = await ask(
      heir as RawIrcClient,
      'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2262-01-01T00:00:00.000Z 10',
    );
    expect(theirs.slice(1, -1)).toEqual([]);
    // For ann the name is now an account's too: one conversation per name in TARGETS.
    (heir as RawIrcClient).send(`PRIVMSG ${annNick} :now registered`);
    await ann.expect(/ PRIVMSG \S+ :now registered$/);
    expect(batchTexts(await ask(ann, `CHATHISTORY LATEST ${guestNick} * 10`), guestNick)).toEqual([
      'hello guest',
      'hello ann',
      'now registered',
    ]);
    const again = await ask(
      ann,
      'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2262-01-01T00:00:00.000Z 10',
    );
    expect(again.slice(1, -1).map((l) => / TARGETS (\S+) /.exec(l)?.[1])).toEqual([guestNick]);
    for (const c of [ann, other, heir as RawIrcClient]) c.close();
  });

  test('TARGETS gives up to the limit targets when an account and a former guest of one name fold into one', async () => {
    const [annNick, gstNick, p2Nick, p3Nick] = [
      unique('ann'),
      unique('gst'),
      unique('pp'),
      unique('pq'),
    ];
    const ann = await account(annNick);
    const guest = await client(gstNick);
    const [p2, p3] = [await client(p2Nick), await client(p3Nick)];
    // 1: with gst while a guest (kept as `@ann ~gst`), 2: with the guest p2.
    ann.send(`PRIVMSG ${gstNick} :one`);
    await guest.expect(/ PRIVMSG \S+ :one$/);
    guest.close();
    ann.send(`PRIVMSG ${p2Nick} :two`);
    await p2.expect(/ PRIVMSG \S+ :two$/);
    // 3: gst's name is an account's now (`@ann gst`): one target with 1, at 3. 4: with p3.
    let heir: RawIrcClient | null = null;
    for (let i = 0; i < 50 && heir === null; i++) {
      heir = await account(gstNick).catch(async () => {
        await new Promise((r) => setTimeout(r, 50));
        return null;
      });
    }
    (heir as RawIrcClient).send(`PRIVMSG ${annNick} :three`);
    await ann.expect(/ PRIVMSG \S+ :three$/);
    ann.send(`PRIVMSG ${p3Nick} :four`);
    await p3.expect(/ PRIVMSG \S+ :four$/);

    const targets = async (limit: number) =>
      (
        await ask(
          ann,
          `CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2262-01-01T00:00:00.000Z ${limit}`,
        )
      )
        .map((l) => / CHATHISTORY TARGETS (\S+) /.exec(l)?.[1])
        .filter((t) => t !== undefined);
    // Oldest newest message first, each name once, at its newest: p2 (2), gst (3), p3 (4).
    expect(await targets(3)).toEqual([p2Nick, gstNick, p3Nick]);
    expect(await targets(2)).toEqual([p2Nick, gstNick]);
    expect(await targets(1)).toEqual([p2Nick]);
    for (const c of [ann, p2, p3, heir as RawIrcClient]) c.close();
  });
});
