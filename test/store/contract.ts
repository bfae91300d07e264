/**
 * The contract every Store must keep. Each backend's test file calls this.
 */
import { expect, test } from 'vitest';
import type { EventDetail, EventEntry, HistoryEntry } from '../../src/core/events.js';
import type { Logger, RenameRecord, Store } from '../../src/core/ports.js';

let seq = 0;
function entry(room: string, text: string, ts = Date.now()): HistoryEntry {
  seq++;
  return {
    id: String(ts * 1000 + seq),
    ts,
    room,
    from: 'alice',
    mask: 'alice!alice@127.0.0.1',
    text,
    kind: 'say',
  };
}

function event(room: string, detail: EventDetail, ts = Date.now()): EventEntry {
  seq++;
  return { id: String(ts * 1000 + seq), ts, room, from: 'bob', mask: 'bob!bob@::1', detail };
}

/** A logger that keeps what it is told, to check what the store reports. */
export function recordingLogger(): Logger & {
  lines: { level: string; obj: object; msg: string }[];
} {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg = ''): void =>
      void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Makes a backend's writes really fail (and work again), for the failure contract. */
export interface StoreFaults {
  /** What the degraded notice says the cause is. */
  reason: string;
  break(store: Store): Promise<void>;
  mend(store: Store): Promise<void>;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What a backend's test says of it beyond opening it. */
export interface ContractOptions {
  /**
   * Stores opened one after the other share one database (SQLite's file, PostgreSQL's
   * server), as a cluster's nodes do: concurrency is then tested across two stores.
   */
  shared?: boolean;
}

export function storeContract(
  name: string,
  open: (log?: Logger) => Promise<Store>,
  faults?: StoreFaults,
  options: ContractOptions = {},
): void {
  test(`${name}: history keeps order, pages with before, and is per room`, async () => {
    const store = await open();
    const room = `#c${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const written = Array.from({ length: 30 }, (_, i) => entry(room, `m${i} 你好 🎉`));
    for (const e of written) store.appendMessage(e);
    store.appendMessage(entry(`${room}x`, 'other room'));
    const last5 = await store.history({ room, limit: 5 });
    expect(last5.map((e) => e.text)).toEqual(written.slice(25).map((e) => e.text));
    expect(last5[0]).toEqual(written[25]);
    const page = await store.history({
      room: room.toUpperCase(),
      limit: 10,
      before: written[25]!.id,
    });
    expect(page.map((e) => e.text)).toEqual(written.slice(15, 25).map((e) => e.text));
    expect(await store.history({ room: '#never-used', limit: 10 })).toEqual([]);
    await store.close();
  });

  test(`${name}: 19-digit ids (ids.ts) come back exactly, and page exactly`, async () => {
    const store = await open();
    const room = `#big${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    // Past 2^53: a store that read them as JS numbers would round them.
    const base = BigInt(Date.now()) * 1_000_000n + 123n;
    const ids = [0n, 1000n, 2000n].map((d) => String(base + d));
    for (const [i, id] of ids.entries()) {
      store.appendMessage({ ...entry(room, `big${i}`), id });
    }
    expect((await store.history({ room, limit: 10 })).map((e) => e.id)).toEqual(ids);
    expect((await store.history({ room, limit: 10, after: ids[0] })).map((e) => e.id)).toEqual(
      ids.slice(1),
    );
    const newest = await store.conversations({
      rooms: [room],
      after: 0,
      before: Date.now() + 1e6,
      limit: 5,
    });
    expect(newest.map((c) => c.id)).toEqual([ids[2]]);
    store.saveReadMarker(`big${room}`, { target: room, id: ids[1] as string });
    expect(await store.readMarkers(`big${room}`)).toEqual([{ target: room, id: ids[1] }]);
    await store.close();
  });

  test(`${name}: history pages after an id, between two ids, from either end`, async () => {
    const store = await open();
    const room = `#a${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const written = Array.from({ length: 20 }, (_, i) => entry(room, `m${i}`));
    for (const e of written) store.appendMessage(e);
    store.appendMessage(entry(`${room}x`, 'other room'));
    const texts = (es: HistoryEntry[]) => es.map((e) => e.text);
    const slice = (a: number, b: number) => written.slice(a, b).map((e) => e.text);
    // after: the page that starts just after the id
    expect(texts(await store.history({ room, limit: 3, after: written[4]!.id }))).toEqual(
      slice(5, 8),
    );
    expect(texts(await store.history({ room, limit: 100, after: written[17]!.id }))).toEqual(
      slice(18, 20),
    );
    // between, counted from the older end and from the newer end
    const between = { room, before: written[15]!.id, after: written[5]!.id };
    expect(texts(await store.history({ ...between, limit: 3 }))).toEqual(slice(6, 9));
    expect(texts(await store.history({ ...between, limit: 3, keep: 'newest' }))).toEqual(
      slice(12, 15),
    );
    expect(texts(await store.history({ ...between, limit: 100 }))).toEqual(slice(6, 15));
    // keep 'oldest' without after: the room's first messages
    expect(texts(await store.history({ room, limit: 2, keep: 'oldest' }))).toEqual(slice(0, 2));
    // empty ranges, and a limit of 0
    expect(await store.history({ room, limit: 5, after: written[19]!.id })).toEqual([]);
    expect(
      await store.history({ room, limit: 5, after: written[9]!.id, before: written[10]!.id }),
    ).toEqual([]);
    expect(await store.history({ room, limit: 0 })).toEqual([]);
    await store.close();
  });

  test(`${name}: conversations: newest message per room and private conversation, in a window`, async () => {
    const store = await open();
    const tag = `${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const t0 = Date.now() - 100_000;
    const a = `#ca${tag}`;
    const b = `#cb${tag}`;
    const hidden = `#ch${tag}`;
    const me = `me_${tag}`;
    const dmWith = `@${[me, `pal${tag}`].sort().join(' ')}`;
    const dmOther = `@${[`x${tag}`, `y${tag}`].sort().join(' ')}`;
    const guest = `@${me} ~guest${tag}`;
    const put = (room: string, ts: number) => store.appendMessage(entry(room, `at ${ts}`, ts));
    put(a, t0 + 1);
    put(a, t0 + 5); // a's newest
    put(dmWith, t0 + 3);
    put(b, t0 + 7);
    put(hidden, t0 + 8);
    put(dmOther, t0 + 9);
    await put(guest, t0 + 10);
    const all = await store.conversations({
      rooms: [a.toUpperCase(), b],
      account: me.toUpperCase(),
      after: 0,
      before: t0 + 1000,
      limit: 100,
    });
    expect(all.map((c) => [c.room, c.ts])).toEqual([
      [dmWith, t0 + 3],
      [a, t0 + 5],
      [b, t0 + 7],
      [guest, t0 + 10],
    ]);
    expect(all[1]!.id).toBe((await store.history({ room: a, limit: 1 }))[0]!.id);
    // The window holds the newest message, strictly: a (newest at t0+5) is out, not in
    // for its older message at t0+1.
    const window = await store.conversations({
      rooms: [a, b],
      account: me,
      after: t0 + 3,
      before: t0 + 10,
      limit: 100,
    });
    expect(window.map((c) => c.room)).toEqual([a, b]);
    const two = await store.conversations({
      rooms: [a, b],
      account: me,
      after: 0,
      before: t0 + 1000,
      limit: 2,
    });
    expect(two.map((c) => c.room)).toEqual([dmWith, a]);
    // No account: rooms only.
    const rooms = await store.conversations({ rooms: [b], after: 0, before: t0 + 1000, limit: 9 });
    expect(rooms.map((c) => c.room)).toEqual([b]);
    await store.close();
  });

  test(`${name}: read markers: per account and target, case-insensitive, only forward`, async () => {
    const store = await open();
    const tag = `${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const acct = `reader${tag}`;
    store.saveReadMarker(acct, { target: `#Room${tag}`, id: '1764590000000000000' });
    store.saveReadMarker(acct.toUpperCase(), { target: `#room${tag}`, id: '1764590000005000000' });
    // Backwards: ignored.
    store.saveReadMarker(acct, { target: `#ROOM${tag}`, id: '1764590000001000000' });
    store.saveReadMarker(acct, { target: `pal${tag}`, id: '42' });
    store.saveReadMarker(`other${tag}`, { target: `#room${tag}`, id: '7' });
    const mine = await store.readMarkers(acct);
    mine.sort((x, y) => x.target.localeCompare(y.target));
    expect(mine).toEqual([
      { target: `#room${tag}`, id: '1764590000005000000' },
      { target: `pal${tag}`, id: '42' },
    ]);
    expect(await store.readMarkers(`other${tag}`)).toEqual([{ target: `#room${tag}`, id: '7' }]);
    expect(await store.readMarkers(`nobody${tag}`)).toEqual([]);
    await store.close();
  });

  test(`${name}: messagesAfter and countAfter: what came after an id, oldest first, per room`, async () => {
    const store = await open();
    const room = `#a${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    // Ids ten apart, so an id between two stored ones exists (a notice's: never stored).
    const base = BigInt(Date.now()) * 1_000_000n;
    const written = Array.from({ length: 12 }, (_, i) => ({
      ...entry(room, `a${i}`),
      id: (base + BigInt(i * 10)).toString(),
    }));
    for (const e of written) store.appendMessage(e);
    store.appendMessage(entry(`${room}x`, 'other room'));
    const from = written[4]!.id;
    // Ids exactly as written: 19 digits, more than a JavaScript number holds.
    expect((await store.messagesAfter(room, from, 100)).map((e) => e.id)).toEqual(
      written.slice(5).map((e) => e.id),
    );
    // The limit keeps the first ones after the id (a resume reads on from there).
    expect((await store.messagesAfter(room.toUpperCase(), from, 3)).map((e) => e.text)).toEqual([
      'a5',
      'a6',
      'a7',
    ]);
    expect(await store.countAfter(room, from)).toBe(7);
    expect(await store.countAfter(room, written[11]!.id)).toBe(0);
    expect(await store.messagesAfter(room, written[11]!.id, 10)).toEqual([]);
    expect(await store.countAfter(room, '0')).toBe(12);
    expect((await store.messagesAfter(room, '0', 1))[0]).toEqual(written[0]);
    // An id between two stored ones counts from where it falls.
    const between = (BigInt(written[7]!.id) + 5n).toString();
    expect(await store.countAfter(room, between)).toBe(4);
    expect(await store.countAfter('#never-used', '0')).toBe(0);
    await store.close();
  });

  test(`${name}: appendMessage resolves once written; the message is then in history`, async () => {
    const store = await open();
    const room = `#w${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const e = entry(room, 'kept');
    await store.appendMessage(e);
    // Nothing was read in between: only the write itself can have put it there.
    expect(store.stats?.().backlog ?? 0).toBe(0);
    expect(await store.history({ room, limit: 10 })).toEqual([e]);
    expect(store.writable?.() ?? true).toBe(true);
    await store.close();
  });

  test(`${name}: a message's client-only tags come back with it, from every read`, async () => {
    const store = await open();
    const room = `#t${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const tagged: HistoryEntry = {
      ...entry(room, 'a reply'),
      tags: { '+draft/reply': '123', '+example.com/x': 'a; b\\ c', '+typing': '' },
    };
    const plain = entry(room, 'no tags');
    await store.appendMessage(tagged);
    await store.appendMessage(plain);
    expect(await store.history({ room, limit: 10 })).toEqual([tagged, plain]);
    expect(await store.messagesAfter(room, '0', 10)).toEqual([tagged, plain]);
    expect((await store.history({ room, limit: 10 }))[1]).not.toHaveProperty('tags');
    await store.close();
  });

  test(`${name}: an id already stored is logged and counted, not written, and the batch goes on`, async () => {
    const log = recordingLogger();
    const store = await open(log);
    const room = `#d${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const first = entry(room, 'first');
    await store.appendMessage(first);
    const before = store.stats!().duplicates;
    // One batch: a new message, a duplicate of a stored one, a twin within the batch, another.
    const twin = entry(room, 'second');
    const written = [
      store.appendMessage(twin),
      store.appendMessage({ ...first, text: 'impostor' }),
      store.appendMessage({ ...twin, text: 'twin' }),
      store.appendMessage(entry(room, 'third')),
    ];
    await Promise.all(written);
    const texts = (await store.history({ room, limit: 10 })).map((e) => e.text);
    expect(texts).toEqual(['first', 'second', 'third']);
    expect(store.stats!().duplicates - before).toBe(2);
    const warned = log.lines.filter((l) => l.level === 'warn' && /id already stored/.test(l.msg));
    expect(warned.flatMap((l) => (l.obj as { ids: string[] }).ids)).toEqual([first.id, twin.id]);
    await store.close();
  });

  test(`${name}: while writes fail: unhealthy, refusing, nothing lost; all written in order after`, async () => {
    if (!faults) return; // memory cannot fail to write
    const log = recordingLogger();
    const store = await open(log);
    const changes: [boolean, string][] = [];
    store.onHealthChange!((healthy, reason) => changes.push([healthy, reason]));
    const room = `#f${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const early = [entry(room, 'e0'), entry(room, 'e1')];
    await Promise.all(early.map((e) => store.appendMessage(e)));
    const failedBefore = store.stats!().failed;

    await faults.break(store);
    // Big enough to need new pages (SQLite); each is the largest text the hub accepts.
    const during = Array.from({ length: 40 }, (_, i) => entry(room, `w${i} ${'x'.repeat(3990)}`));
    let committed = 0;
    const promises = during.map((e) => store.appendMessage(e).then(() => committed++));
    await until(() => !store.healthy(), 'the store reports a failure');
    expect(store.writable!()).toBe(false);
    await until(() => changes.length === 1, 'the health listener hears it');
    expect(changes).toEqual([[false, faults.reason]]);
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1); // once per episode, with the error
    expect((errors[0]!.obj as { err: unknown }).err).toBeInstanceOf(Error);
    // History still shows everything acknowledged: what waits is read from the queue.
    const shown = await store.history({ room, limit: 100 });
    expect(shown.map((e) => e.id)).toEqual([...early, ...during].map((e) => e.id));
    // So does a resume: what came after an id, committed or still waiting, and its count.
    const after = await store.messagesAfter(room, early[0]!.id, 5);
    expect(after.map((e) => e.id)).toEqual([early[1]!, ...during.slice(0, 4)].map((e) => e.id));
    expect(await store.countAfter(room, early[0]!.id)).toBe(41);
    await new Promise((r) => setTimeout(r, 300));
    expect(committed).toBe(0);
    expect(store.stats!().backlog).toBeGreaterThanOrEqual(40);

    await faults.mend(store);
    await Promise.all(promises); // the retry (within ~0.5 s of backoff here) commits them
    expect(committed).toBe(40);
    expect(store.healthy()).toBe(true);
    expect(store.writable!()).toBe(true);
    await until(() => changes.length === 2, 'the recovery is heard');
    expect(changes[1]).toEqual([true, '']);
    expect(log.lines.some((l) => l.level === 'info' && /recovered/.test(l.msg))).toBe(true);
    const stats = store.stats!();
    expect(stats.failed - failedBefore).toBeGreaterThanOrEqual(1);
    expect(stats.backlog).toBe(0);
    await store.close();

    const again = await open();
    const kept = await again.history({ room, limit: 100 });
    expect(kept.map((e) => e.id)).toEqual([...early, ...during].map((e) => e.id));
    await again.close();
  });

  test(`${name}: a write the database refuses for its content costs only itself`, async () => {
    if (!faults) return; // memory keeps whatever it is given
    const log = recordingLogger();
    const store = await open(log);
    const room = `#x${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const before = entry(room, 'before');
    // An id that is not a number: SQLite's binding and PostgreSQL's BIGINT both refuse it,
    // and no retry can change that. It must not block the messages around it, or any later.
    const poison = { ...entry(room, 'poison'), id: 'not-a-number' };
    const after = entry(room, 'after');
    await Promise.all([before, poison, after].map((e) => store.appendMessage(e)));
    const later = entry(room, 'later');
    await store.appendMessage(later);
    expect((await store.history({ room, limit: 10 })).map((e) => e.text)).toEqual([
      'before',
      'after',
      'later',
    ]);
    expect(store.healthy()).toBe(true);
    const refused = log.lines.filter(
      (l) => l.level === 'error' && /refuses for its content/.test(l.msg),
    );
    expect(refused.map((l) => (l.obj as { id: string }).id)).toEqual(['not-a-number']);
    expect(store.stats!().backlog).toBe(0);
    await store.close();
  });

  test(`${name}: accounts are unique case-insensitively`, async () => {
    const store = await open();
    const n = `Acct${Date.now()}`;
    expect(
      await store.createAccount({ name: n, passwordHash: 'scrypt$x', createdAt: 1, lastSeen: 1 }),
    ).toBe(true);
    expect(
      await store.createAccount({
        name: n.toLowerCase(),
        passwordHash: 'y',
        createdAt: 2,
        lastSeen: 2,
      }),
    ).toBe(false);
    store.touchAccount(n, 99);
    const a = await store.getAccount(n.toUpperCase());
    expect(a).toMatchObject({ name: n, passwordHash: 'scrypt$x', createdAt: 1 });
    expect(await store.getAccount('nobody-here')).toBeNull();
    await store.close();
  });

  test(`${name}: rooms, bans, mutes and settings round-trip; expired bans are not loaded`, async () => {
    const store = await open();
    const room = `#r${Date.now()}`;
    store.saveRoom({
      name: room,
      topic: 'hello',
      topicBy: 'a!a@h',
      topicAt: 5,
      flags: ['noExternal', 'topicLocked'],
      key: 'k',
      limit: 3,
      owner: 'alice',
    });
    store.saveRoom({
      name: room,
      topic: 'updated',
      topicBy: 'a!a@h',
      topicAt: 6,
      flags: ['inviteOnly', 'moderated', 'noExternal', 'topicLocked'],
      key: null,
      limit: 0,
      owner: 'alice',
    });
    store.saveBan({
      room,
      mask: 'troll!*@*',
      kind: 'ban',
      reason: 'spam',
      setBy: 'alice',
      createdAt: 1,
      expiresAt: null,
    });
    store.saveBan({
      room,
      mask: 'old!*@*',
      kind: 'ban',
      reason: '',
      setBy: 'alice',
      createdAt: 1,
      expiresAt: 1000,
    });
    store.saveBan({
      room,
      mask: 'quiet',
      kind: 'mute',
      reason: '',
      setBy: 'alice',
      createdAt: 1,
      expiresAt: Date.now() + 60_000,
    });
    store.saveBan({
      room: '*',
      mask: '*!*@10.0.0.1',
      kind: 'ban',
      reason: 'abuse',
      setBy: 'server',
      createdAt: 1,
      expiresAt: null,
    });
    store.saveBan({
      room,
      mask: 'gone!*@*',
      kind: 'ban',
      reason: '',
      setBy: 'alice',
      createdAt: 1,
      expiresAt: null,
    });
    store.deleteBan(room, 'GONE!*@*', 'ban');
    store.setSetting('motd', 'line one\nline two');
    const rooms = (await store.loadRooms()).filter((r) => r.name === room);
    expect(rooms).toEqual([
      {
        name: room,
        topic: 'updated',
        topicBy: 'a!a@h',
        topicAt: 6,
        flags: ['inviteOnly', 'moderated', 'noExternal', 'topicLocked'],
        key: null,
        limit: 0,
        owner: 'alice',
      },
    ]);
    const bans = (await store.loadBans()).filter((b) => b.room === room || b.room === '*');
    expect(bans.map((b) => `${b.room === '*' ? '*' : 'room'} ${b.kind} ${b.mask}`).sort()).toEqual([
      '* ban *!*@10.0.0.1',
      'room ban troll!*@*',
      'room mute quiet',
    ]);
    expect(await store.getSetting('motd')).toBe('line one\nline two');
    expect(await store.getSetting('missing')).toBeNull();
    await store.close();
  });

  test(`${name}: pruneSettings deletes stale settings under a prefix, and only those`, async () => {
    const store = await open();
    if (!store.pruneSettings) return void (await store.close());
    const p = `seen${Date.now()}:`;
    store.setSetting(`${p}old`, 'old');
    store.setSetting(`${p}new`, 'new');
    store.setSetting(`${p.slice(0, -1)};old`, 'old'); // the next key after the prefix's range
    store.setSetting(`x${p}old`, 'old');
    expect(await store.pruneSettings(p, (v) => v === 'old')).toBe(1);
    expect(await store.getSetting(`${p}old`)).toBeNull();
    expect(await store.getSetting(`${p}new`)).toBe('new');
    expect(await store.getSetting(`${p.slice(0, -1)};old`)).toBe('old');
    expect(await store.getSetting(`x${p}old`)).toBe('old');
    // A value written after the prune read it stays (the delete is only of the stale one).
    store.setSetting(`${p}again`, 'old');
    const pruned = store.pruneSettings(p, (v) => v === 'old');
    store.setSetting(`${p}again`, 'renewed');
    await pruned;
    expect(await store.getSetting(`${p}again`)).toBe('renewed');
    await store.close();
  });

  test(`${name}: renameRoom moves messages, record, bans, mutes and read markers, in order`, async () => {
    const store = await open();
    const from = `#Before${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const to = `#after${from.slice(7)}`;
    const early = entry(from, 'written before the rename');
    store.appendMessage(early);
    store.appendMessage(entry(`${from}x`, 'another room stays'));
    store.saveRoom({
      name: from,
      topic: 'kept',
      topicBy: 'a!a@h',
      topicAt: 5,
      flags: ['noExternal'],
      key: 'k',
      limit: 0,
      owner: 'alice',
    });
    const ban = {
      mask: 'troll!*@*',
      reason: 'spam',
      setBy: 'alice',
      createdAt: 1,
      expiresAt: null,
    };
    store.saveBan({ room: from, kind: 'ban', ...ban });
    store.saveBan({ room: from, kind: 'mute', ...ban, mask: 'quiet' });
    store.saveReadMarker('alice', { target: from, id: early.id });
    // Queued in order: what was appended before the rename moves with it.
    const late = entry(from, 'appended just before the rename');
    void store.appendMessage(late);
    store.renameRoom(from, to);
    const after = entry(to, 'written after');
    await store.appendMessage(after);
    expect((await store.history({ room: to, limit: 10 })).map((e) => [e.text, e.room])).toEqual([
      ['written before the rename', to],
      ['appended just before the rename', to],
      ['written after', to],
    ]);
    expect(await store.history({ room: from, limit: 10 })).toEqual([]);
    expect(await store.history({ room: `${from}x`, limit: 10 })).toHaveLength(1);
    expect(await store.countAfter(to, '0')).toBe(3);
    expect((await store.messagesAfter(to, early.id, 10)).map((e) => e.text)).toEqual([
      'appended just before the rename',
      'written after',
    ]);
    const found = await store.search({
      terms: ['rename'],
      rooms: [to],
      account: null,
      limit: 10,
      scan: 100,
    });
    expect(found.entries.map((e) => e.room)).toEqual([to, to]);
    expect((await store.loadRooms()).filter((r) => r.name === from || r.name === to)).toEqual([
      expect.objectContaining({ name: to, topic: 'kept', owner: 'alice', key: 'k' }),
    ]);
    const bans = (await store.loadBans()).filter((b) => b.room === from || b.room === to);
    expect(bans.map((b) => `${b.room} ${b.kind} ${b.mask}`).sort()).toEqual([
      `${to} ban troll!*@*`,
      `${to} mute quiet`,
    ]);
    expect((await store.readMarkers('alice')).filter((m) => m.target === to)).toEqual([
      { target: to, id: early.id },
    ]);
    // A change of case only: the same rows, the new spelling.
    const upper = to.toUpperCase();
    store.renameRoom(to, upper);
    expect((await store.history({ room: upper, limit: 10 })).map((e) => e.room)).toEqual([
      upper,
      upper,
      upper,
    ]);
    await store.close();
  });

  test(`${name}: renames: one per old name, the later kept; recorded at once, all stay; the newest kept`, async () => {
    const a = await open();
    // Two nodes on one database each record renames at the same moment (one store where
    // the backend keeps nothing beyond itself).
    const b = options.shared ? await open() : a;
    const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const t = Date.now();
    const rename = (from: string, to: string, at: number): RenameRecord => ({
      from: `#${from}${tag}`,
      to: `#${to}${tag}`,
      at,
      by: 'alice',
      reason: `why ${from} ☕`,
    });
    const fromA = Array.from({ length: 20 }, (_, i) => rename(`a${i}`, `A${i}`, t + i));
    const fromB = Array.from({ length: 20 }, (_, i) => rename(`b${i}`, `B${i}`, t + i));
    for (let i = 0; i < 20; i++) {
      a.saveRename(fromA[i] as RenameRecord, 1000);
      b.saveRename(fromB[i] as RenameRecord, 1000);
    }
    // Both write queues flush at once: on a shared database, concurrent transactions.
    await Promise.all([a.renames(1), b.renames(1)]);
    for (const s of new Set([a, b])) {
      const mine = (await s.renames(1000)).filter((r) => r.from.endsWith(tag));
      expect(mine).toHaveLength(40);
      // Oldest first; of one millisecond, by name.
      expect(mine.slice(-2).map((r) => r.from)).toEqual([`#a19${tag}`, `#b19${tag}`]);
      expect(await s.renamedFrom(`#a3${tag}`)).toEqual(fromA[3]);
      expect(await s.renamedFrom(`#b7${tag}`)).toEqual(fromB[7]);
    }
    expect(await a.renamedFrom(`#never${tag}`)).toBeNull();

    // A later rename of a name replaces its row; an earlier one landing late does not.
    a.saveRename(rename('a0', 'again', t + 100), 1000);
    b.saveRename(rename('a0', 'stale', t + 50), 1000);
    await Promise.all([a.renames(1), b.renames(1)]);
    expect((await a.renamedFrom(`#a0${tag}`))?.to).toBe(`#again${tag}`);
    expect((await b.renamedFrom(`#a0${tag}`))?.to).toBe(`#again${tag}`);

    // Only the newest `keep` stay (here everything older than these five goes).
    const newest = Array.from({ length: 5 }, (_, i) => rename(`n${i}`, `N${i}`, t + 200 + i));
    for (const r of newest) a.saveRename(r, 3);
    expect(await a.renames(3)).toEqual(newest.slice(2));
    expect((await a.renames(10)).filter((r) => r.from.endsWith(tag))).toEqual(newest.slice(2));
    expect(await a.renamedFrom(`#n1${tag}`)).toBeNull();
    expect(await a.renamedFrom(`#a19${tag}`)).toBeNull();
    if (b !== a) await b.close();
    await a.close();
  });

  test(`${name}: retention prunes by count per room`, async () => {
    const store = await open();
    if (!store.prune) return void (await store.close()); // the memory ring is bounded by design
    const room = `#p${Date.now()}`;
    for (let i = 0; i < 20; i++) store.appendMessage(entry(room, `p${i}`));
    await store.history({ room, limit: 1 }); // flushes the queue
    await store.prune(0, 5);
    const left = await store.history({ room, limit: 100 });
    expect(left.map((e) => e.text)).toEqual(['p15', 'p16', 'p17', 'p18', 'p19']);
    await new Promise((r) => setTimeout(r, 10));
    await store.prune(1, 0); // older than 1 ms: everything, 10 ms later
    expect(await store.history({ room, limit: 100 })).toEqual([]);
    await store.close();
  });

  test(`${name}: kept events page like history, per room, and never show as messages`, async () => {
    const store = await open();
    if (!store.appendEvent || !store.events) throw new Error(`${name} keeps no events`);
    const room = `#e${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    const details: EventDetail[] = [
      { kind: 'join', account: null, realname: 'Bob B' },
      { kind: 'topic', topic: 'a topic ☕' },
      { kind: 'mode', changes: [{ kind: 'role', role: 'op', name: 'carol', on: true }] },
      { kind: 'tag', tags: { '+draft/react': '👍', '+draft/reply': '123' } },
      { kind: 'kick', name: 'carol', reason: 'bye' },
      { kind: 'nick', newName: 'bobby' },
      { kind: 'part', reason: '' },
      { kind: 'quit', reason: 'gone' },
    ];
    const m = entry(room, 'a message between events');
    const events = details.map((d) => event(room, d));
    store.appendEvent(events[0] as EventEntry);
    store.appendMessage(m);
    for (const e of events.slice(1)) store.appendEvent(e);
    // The same event twice (a retried batch) is kept once; another room's is its own.
    store.appendEvent(events[1] as EventEntry);
    store.appendEvent({ ...(events[7] as EventEntry), room: `${room}x` });
    expect(await store.events({ room, limit: 100 })).toEqual(events);
    expect((await store.events({ room: room.toUpperCase(), limit: 2 })).map((e) => e.id)).toEqual(
      events.slice(-2).map((e) => e.id),
    );
    const after = await store.events({ room, limit: 2, after: (events[2] as EventEntry).id });
    expect(after).toEqual(events.slice(3, 5));
    const before = await store.events({ room, limit: 100, before: (events[2] as EventEntry).id });
    expect(before).toEqual(events.slice(0, 2));
    expect(await store.events({ room: `${room}x`, limit: 100 })).toHaveLength(1);
    // Messages are as they were: the events are in none of their reads.
    expect(await store.history({ room, limit: 100 })).toEqual([m]);
    expect(await store.countAfter(room, '0')).toBe(1);
    expect(await store.messagesAfter(room, '0', 100)).toEqual([m]);
    if (store.pruneEvents) {
      await store.pruneEvents(0, 3, room);
      expect(await store.events({ room, limit: 100 })).toEqual(events.slice(-3));
      expect(await store.events({ room: `${room}x`, limit: 100 })).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 10));
      await store.prune?.(1, 0); // retention by age takes events with the messages
      expect(await store.events({ room, limit: 100 })).toEqual([]);
    }
    await store.close();
  });
}
