/**
 * The contract every Store must keep. Each backend's test file calls this.
 */
import { expect, test } from 'vitest';
import type { HistoryEntry } from '../../src/core/events.js';
import type { Store } from '../../src/core/ports.js';

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

export function storeContract(name: string, open: () => Promise<Store>): void {
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
}
