/**
 * The core on its own: a Hub with in-memory connections, the in-memory store and an
 * injected clock, so timeouts are exact and nothing sleeps. Run on both buses: the
 * in-process one and the one that delivers on a later turn.
 */
import { describe, expect, test } from 'vitest';
import { AsyncBus } from '../../../src/cluster/async.js';
import { LocalBus } from '../../../src/cluster/local.js';
import { ChatError } from '../../../src/core/errors.js';
import { Hub } from '../../../src/core/hub.js';
import { defaultOptions, type ServerOptions } from '../../../src/core/options.js';
import { silentLogger, type Bus } from '../../../src/core/ports.js';
import type { Session } from '../../../src/core/session.js';
import { lineEncoder } from '../../../src/protocols/line/encoder.js';
import { MemoryStore } from '../../../src/store/memory.js';
import { ManualClock, MemoryConnection } from '../../helpers/memory-link.js';

interface World {
  hub: Hub;
  clock: ManualClock;
  store: MemoryStore;
}

async function world(bus: () => Bus, options: Partial<ServerOptions> = {}): Promise<World> {
  const clock = new ManualClock();
  const store = new MemoryStore(100);
  const hub = new Hub({ ...defaultOptions(), ...options }, store, bus(), silentLogger, clock);
  await hub.start();
  return { hub, clock, store };
}

async function person(
  w: World,
  name: string,
  address = '127.0.0.1',
): Promise<{ s: Session; c: MemoryConnection }> {
  const c = new MemoryConnection(address);
  const s = w.hub.attach(c, lineEncoder);
  await w.hub.setName(s, name, true);
  await w.hub.register(s);
  await w.hub.join(s, w.hub.options.defaultRoom, undefined, true);
  return { s, c };
}

const buses: [string, () => Bus][] = [
  ['LocalBus', () => new LocalBus()],
  ['AsyncBus', () => new AsyncBus()],
];

for (const [name, bus] of buses) {
  describe(name, () => {
    test('the registration timeout, to the millisecond, with the injected clock', async () => {
      const w = await world(bus, { registrationTimeoutMs: 5000 });
      const c = new MemoryConnection();
      w.hub.attach(c, lineEncoder);
      w.clock.advance(5000);
      w.hub.sweep();
      expect(c.ended).toBe(false);
      w.clock.advance(1);
      w.hub.sweep();
      expect(c.ended).toBe(true);
      expect(c.last).toBe('* Disconnected: registration timeout\r\n');
      await w.hub.shutdown();
    });

    test('the idle timeout closes a silent registered session; input keeps one open', async () => {
      const w = await world(bus, { idleTimeoutMs: 60_000 });
      const quiet = await person(w, 'quiet');
      const busy = await person(w, 'busy');
      w.clock.advance(50_000);
      w.hub.touch(busy.s);
      w.clock.advance(10_001);
      w.hub.sweep();
      expect(quiet.c.ended).toBe(true);
      expect(busy.c.ended).toBe(false);
      await new Promise((r) => setImmediate(r));
      expect(busy.c.text).toContain('* quiet left (idle timeout)');
      await w.hub.shutdown();
    });

    test('two concurrent claims of one name: exactly one wins', async () => {
      const w = await world(bus);
      const a = w.hub.attach(new MemoryConnection(), lineEncoder);
      const b = w.hub.attach(new MemoryConnection(), lineEncoder);
      const results = await Promise.allSettled([
        w.hub.setName(a, 'Twin', true),
        w.hub.setName(b, 'twin', true),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(ChatError);
      expect((lost.reason as ChatError).code).toBe('name_in_use');
      await w.hub.shutdown();
    });

    test('a name held by a session still registering yields to one that registers', async () => {
      const w = await world(bus);
      const ghost = w.hub.attach(new MemoryConnection(), lineEncoder);
      await w.hub.setName(ghost, 'alice'); // IRC NICK without USER: tentative
      const real = await person(w, 'alice');
      expect(w.hub.find('alice')).toBe(real.s);
      // The ghost cannot complete registration with it any more.
      await expect(w.hub.register(ghost)).rejects.toMatchObject({ code: 'name_in_use' });
      await w.hub.shutdown();
    });

    test('the grace period is per impostor and does not restart when they rename', async () => {
      const w = await world(bus, { accountGraceMs: 10_000 });
      const owner = await person(w, 'owner');
      await w.hub.accounts.register(owner.s, 'secret-pw');
      w.hub.disconnect(owner.s, 'quit');
      const imp = await person(w, 'owner');
      w.hub.welcomed(imp.s);
      await new Promise((r) => setTimeout(r, 10));
      expect(imp.c.text).toContain('Identify within 10 seconds');
      w.clock.advance(6000);
      await w.hub.setName(imp.s, 'other');
      await w.hub.setName(imp.s, 'owner');
      await new Promise((r) => setTimeout(r, 10));
      // The same deadline: 4 s left, not 10.
      expect(imp.c.text).toContain('Identify within 4 seconds');
      w.clock.advance(4001);
      w.hub.sweep();
      await new Promise((r) => setTimeout(r, 10));
      expect(imp.s.name).toMatch(/^Guest\d+$/);
      await w.hub.shutdown();
    });

    test('a kicked member is told before being removed', async () => {
      const w = await world(bus, { defaultRoom: '#lobby' });
      const op = await person(w, 'op');
      await w.hub.join(op.s, '#k');
      const target = await person(w, 'target');
      await w.hub.join(target.s, '#k');
      await w.hub.moderation.kick(op.s, '#k', 'target', 'bye');
      expect(target.c.text).toContain('* You were kicked from #k by op (bye)');
      expect(w.hub.room('#k')?.has(target.s)).toBe(false);
      await w.hub.shutdown();
    });

    test('an event is encoded once per wire-format variant, whatever the number of readers', async () => {
      const w = await world(bus);
      const speaker = await person(w, 'speaker');
      const readers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => person(w, `reader${i}`)),
      );
      const before = w.hub.counters.encodings;
      await w.hub.messaging.say(speaker.s, '#lobby', 'hello all');
      expect(w.hub.counters.encodings - before).toBe(1);
      for (const r of readers) expect(r.c.text).toContain('<speaker> hello all');
      await w.hub.shutdown();
    });

    test('a reader past its send limit is evicted with a last line; others go on', async () => {
      const w = await world(bus, { sendQueueBytes: 4096 });
      const speaker = await person(w, 'speaker');
      const slow = await person(w, 'slow');
      const fine = await person(w, 'fine');
      slow.c.stall();
      for (let i = 0; i < 40; i++)
        await w.hub.messaging.say(speaker.s, '#lobby', `${i} ${'x'.repeat(200)}`);
      await new Promise((r) => setImmediate(r));
      expect(slow.c.ended).toBe(true);
      expect(slow.c.last).toBe('* Disconnected: send queue exceeded\r\n');
      expect(fine.c.text).toContain('39 xxx');
      expect(fine.c.text).toContain('* slow left (send queue exceeded)');
      expect(w.hub.counters.sendQueueEvictions).toBe(1);
      await w.hub.shutdown();
    });

    test('room state changes only by applied events, written once by the origin node', async () => {
      const w = await world(bus);
      const op = await person(w, 'op');
      await w.hub.join(op.s, '#state');
      await w.hub.moderation.change(op.s, '#state', [
        { kind: 'flag', flag: 'moderated', on: true },
        { kind: 'key', key: 'sesame' },
        { kind: 'ban', mask: 'troll', on: true },
      ]);
      const room = w.hub.room('#state');
      expect(room?.modes.moderated).toBe(true);
      expect(room?.modes.key).toBe('sesame');
      expect(room?.bans.map((b) => b.mask)).toEqual(['troll!*@*']);
      const saved = (await w.store.loadRooms()).find((r) => r.name === '#state');
      expect(saved?.flags).toContain('moderated');
      expect((await w.store.loadBans()).map((b) => b.mask)).toEqual(['troll!*@*']);
      await w.hub.shutdown();
    });
    test("a big room's digest waits a second per 500 members, so its lines stay few", async () => {
      const w = await world(bus, { rosterDigestThreshold: 2 });
      const first = await person(w, 'first');
      const people = [];
      for (let i = 0; i < 1199; i++) people.push(await person(w, `p${i}`));
      await new Promise((r) => setImmediate(r));
      // 1,200 members: one digest every 2.4 s. Joins so far happened at the same instant.
      const digests = (): number =>
        first.c.written.filter((l) => / people joined #lobby/.test(l)).length;
      const before = digests();
      w.clock.advance(1000);
      w.hub.sweep();
      expect(digests()).toBe(before);
      w.clock.advance(1500);
      w.hub.sweep();
      expect(digests()).toBe(before + 1);
      expect(first.c.written.at(-1)).toMatch(
        /^\* \d+ people joined #lobby: p\d+, .* and \d+ more\r\n$/,
      );
      // Nothing new gathered: no digest however long the wait.
      w.clock.advance(10_000);
      w.hub.sweep();
      expect(digests()).toBe(before + 1);
      await w.hub.shutdown();
    });

    test('a room of a few hundred still has its digest every second', async () => {
      const w = await world(bus, { rosterDigestThreshold: 2 });
      const first = await person(w, 'first');
      for (let i = 0; i < 5; i++) await person(w, `p${i}`);
      await new Promise((r) => setImmediate(r));
      first.c.written.length = 0;
      w.clock.advance(1000);
      w.hub.sweep();
      expect(first.c.text).toMatch(/\* 4 people joined #lobby: p1, p2, p3, p4\r\n/);
      await w.hub.shutdown();
    });
  });
}
