/**
 * A JOIN of a room's new name whose snapshot was taken just before the rename (one Redis:
 * before MOVE; a Redis Cluster: before step 1, RESERVE), and whose JOIN is sequenced after
 * it, in the moved room: the joining node's replica is the moved room (members, topic,
 * modes), not the empty name it read, and nobody is told history was lost (it moved).
 *
 * The interleaving is made, not hoped for: the joining node's SEQUENCE of its JOIN is held
 * (after its SNAPSHOT, which the replica was built from) until the rename is done; in some
 * tests also until one of the moved room's events has reached that node first, or (the
 * joining node holding the old room too) with the rename reaching that node only while
 * it reads the new name again. Each fails on the code before the fix: the replica was the
 * empty name (no topic, no modes, no members but the joiner), the feed took the moved
 * room's epoch for lost data, and the JOIN was checked against the empty name (an
 * invite-only moved room let it in); with the old room held there too, the rename was not
 * applied on that node at all.
 */
import { describe, expect, test } from 'vitest';
import type { Envelope, Position } from '../../../src/cluster/bus.js';
import type { RoomSnapshot } from '../../../src/core/ports.js';
import type { RedisBus } from '../../../src/cluster/redis-bus.js';
import type { RunningServer } from '../../../src/server.js';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { ircClient, ircJoin } from '../../helpers/irc-setup.js';
import { nodesOn, REDIS_BACKENDS } from '../../helpers/redis-backends.js';
import { portOf } from '../../helpers/server.js';

/** What the test reaches of a bus: its room sequencing and what it receives (protected). */
interface BusInside {
  sequence(envelope: Envelope): Promise<Position>;
  receive(envelope: Envelope): void;
  snapshot(room: string): Promise<RoomSnapshot>;
}

/**
 * Holds `server`'s SEQUENCE of the next JOIN of `room` (folded) until `release`: `held`
 * resolves once the join got there, i.e. once its node took the room's snapshot.
 */
function holdJoin(server: RunningServer, room: string) {
  const bus = server.hub.bus as unknown as BusInside;
  const original = bus.sequence;
  let release = (): void => {};
  const gate = new Promise<void>((r) => (release = r));
  let reached = (): void => {};
  const held = new Promise<void>((r) => (reached = r));
  bus.sequence = async function (this: BusInside, e: Envelope) {
    if (e.e.type === 'joined' && e.c === `r:${room}`) {
      bus.sequence = original;
      reached();
      await gate;
    }
    return original.call(this, e);
  };
  return { held, release };
}

/** Resolves when `server` has received a room message of `room` (folded) with `text`. */
function received(server: RunningServer, room: string, text: string): Promise<void> {
  const bus = server.hub.bus as unknown as BusInside;
  const original = bus.receive;
  return new Promise((resolve) => {
    bus.receive = function (this: BusInside, e: Envelope) {
      original.call(this, e);
      if (e.c === `r:${room}` && e.e.type === 'message' && e.e.text === text) {
        bus.receive = original;
        resolve();
      }
    };
  });
}

describe.each(REDIS_BACKENDS)(
  'a JOIN of the new name snapshotted before the rename ($name)',
  (kind) => {
    const { servers } = nodesOn(kind, 2, [
      ...['--irc-port', '0', '--flood-rate', '0'],
      // The new name is joined right after the rename: no redirect, no cooldown.
      ...['--rename-grace', '0', '--rename-cooldown', '0'],
    ]);
    let n = 0;

    interface Scenario {
      /** Where carol is: node a, or b (then bob's node holds the old room too). */
      carolOn: 0 | 1;
      /** Before bob's JOIN (with the room's old and new names). */
      before?: (old: string, to: string) => void;
      /** After the rename, before bob's join goes on. */
      between?: (to: string, alice: RawIrcClient) => Promise<void>;
    }

    /**
     * Alice (node a) and carol in a room with a topic and a mode; bob (node b) joins the
     * name alice renames it to, his SEQUENCE held across the rename. Then: what bob sees,
     * and node b's replica.
     */
    async function scenario({ carolOn, before, between }: Scenario) {
      const [a, b] = servers as [RunningServer, RunningServer];
      const old = `#snap${++n}`;
      const to = `#snapnew${n}`;
      const [aName, cName, bName] = [`alice${n}`, `carol${n}`, `bob${n}`];
      const alice = await ircClient(portOf(a, 'irc'), aName, 'draft/channel-rename');
      await ircJoin(alice, old);
      alice.send(`TOPIC ${old} :moved with the room`);
      await alice.expect(/ TOPIC /);
      alice.send(`MODE ${old} +s`);
      await alice.expect(new RegExp(` MODE ${old} \\+s`));
      const carol = await RawIrcClient.register(
        portOf(servers[carolOn] as RunningServer, 'irc'),
        cName,
      );
      await ircJoin(carol, old);
      const bob = await RawIrcClient.register(portOf(b, 'irc'), bName);
      const gaps = b.hub.counters.busGaps;

      before?.(old.toLowerCase(), to.toLowerCase());
      const hold = holdJoin(b, to);
      bob.send(`JOIN ${to}`);
      // Node b has taken the new name's snapshot (empty) and built its replica from it.
      await hold.held;
      expect(b.hub.room(to)?.remote.size).toBe(0);
      alice.send(`RENAME ${old} ${to} :snapshot race`);
      await alice.expect(new RegExp(` RENAME ${old} ${to} :snapshot race$`));
      await between?.(to, alice);
      hold.release();

      await carol.expect(new RegExp(`^:${cName}!\\S+ JOIN ${to}$`));
      await bob.expect(new RegExp(`^:${bName}!\\S+ JOIN ${to}$`));
      await bob.expect(new RegExp(` 366 ${bName} ${to} `));
      const line = (re: RegExp) => bob.lines.find((l) => re.test(l)) ?? '(none)';
      expect(line(new RegExp(` 33[12] ${bName} ${to} `))).toMatch(
        / 332 \S+ \S+ :moved with the room$/,
      );
      const names = line(new RegExp(` 353 ${bName} . ${to} :`));
      expect(names.split(':').pop()?.split(' ').sort()).toEqual([`@${aName}`, bName, cName].sort());
      bob.send(`MODE ${to}`);
      expect(await bob.expect(new RegExp(` 324 ${bName} ${to} `))).toMatch(/ \+\S*s/);

      // Messages from both nodes after the join: each once, in the room's one order.
      alice.send(`PRIVMSG ${to} :one`);
      await bob.expect(/ PRIVMSG \S+ :one$/);
      bob.send(`PRIVMSG ${to} :two`);
      await alice.expect(/ PRIVMSG \S+ :two$/);
      carol.send(`PRIVMSG ${to} :three`);
      await bob.expect(/ PRIVMSG \S+ :three$/);
      await alice.expect(/ PRIVMSG \S+ :three$/);
      for (const c of [alice, bob, carol]) {
        c.send('PING settled');
        await c.expect(/PONG .*settled/);
      }
      const said = (c: RawIrcClient) =>
        c.lines.filter((l) => / PRIVMSG /.test(l)).map((l) => l.split(' :').pop());
      expect(said(bob)).toEqual(['one', 'three']);
      expect(said(alice)).toEqual(['two', 'three']);

      // Nobody on node b was told history was lost: it was not, it moved with the room.
      expect(bob.lines.filter((l) => /no longer available|could not be delivered/.test(l))).toEqual(
        [],
      );
      expect(b.hub.counters.busGaps).toBe(gaps);
      // Node b's replica is the renamed room: its members, topic and modes (WHO, NAMES, the
      // web roster read it).
      const replica = b.hub.room(to);
      const here = [...(replica?.local.keys() ?? [])].map((s) => s.name);
      const there = [...(replica?.remote.keys() ?? [])];
      expect([...here, ...there].sort()).toEqual([aName, bName, cName].sort());
      expect(here).toContain(bName);
      expect(replica?.remote.get(aName)?.roles).toBe(1);
      expect(replica?.topic).toBe('moved with the room');
      expect(replica?.modes.secret).toBe(true);
      expect(replica?.size).toBe(3);
      bob.send(`NAMES ${to}`);
      const again = await bob.expect(new RegExp(` 353 ${bName} . ${to} :`));
      expect(again.split(':').pop()?.split(' ').sort()).toEqual([`@${aName}`, bName, cName].sort());
      for (const c of [alice, bob, carol]) c.close();
    }

    test("the moved room's modes hold for the JOIN: an invite-only room refuses it", async () => {
      const [a, b] = servers as [RunningServer, RunningServer];
      const old = `#shut${++n}`;
      const to = `#shutnew${n}`;
      const alice = await ircClient(portOf(a, 'irc'), `alice${n}`, 'draft/channel-rename');
      await ircJoin(alice, old);
      alice.send(`MODE ${old} +i`);
      await alice.expect(new RegExp(` MODE ${old} \\+i`));
      const bob = await RawIrcClient.register(portOf(b, 'irc'), `bob${n}`);
      const hold = holdJoin(b, to.toLowerCase());
      bob.send(`JOIN ${to}`);
      // Checked against the empty name node b read: nothing stops the join there.
      await hold.held;
      alice.send(`RENAME ${old} ${to} :closed`);
      await alice.expect(new RegExp(` RENAME ${old} ${to} :closed$`));
      hold.release();
      await bob.expect(new RegExp(` 473 bob${n} ${to} `));
      bob.send('PING settled');
      await bob.expect(/PONG .*settled/);
      expect(bob.lines.some((l) => / JOIN /.test(l))).toBe(false);
      expect(b.hub.room(to)).toBeUndefined();
      expect((b.hub.bus as RedisBus).watching(to.toLowerCase())).toBe(false);
      const link = (a.hub.bus as RedisBus).link;
      expect(await link.command(['HLEN', `pb:{r:${to.toLowerCase()}}:members`])).toBe(1);
      alice.close();
      bob.close();
    });

    /** Alice's message to the renamed room, once node b has received it. */
    const firstToB = async (to: string, alice: RawIrcClient) => {
      const there = received(servers[1] as RunningServer, to, 'before bob');
      alice.send(`PRIVMSG ${to} :before bob`);
      await there;
    };

    test('the JOIN is the first event of the moved room the joining node sees', async () => {
      await scenario({ carolOn: 0 });
    });

    test('an event of the moved room reaches the joining node before its JOIN is sequenced', async () => {
      await scenario({ carolOn: 0, between: firstToB });
    });

    test('the joining node holds the old room too: its replica of the new name gives way', async () => {
      await scenario({ carolOn: 1 });
    });

    test('the joining node holds the old room too, and an event of the moved room comes first', async () => {
      await scenario({ carolOn: 1, between: firstToB });
    });

    test('the joining node holds the old room too and applies the rename while it reads the new name again', async () => {
      const bus = (servers[1] as RunningServer).hub.bus as unknown as BusInside;
      await scenario({
        carolOn: 1,
        before: (old, to) => {
          // The rename reaches node b only once its JOIN met the moved room and node b is
          // reading the new name again (or, where nothing reads it again, once the JOIN is
          // sequenced).
          const { receive, snapshot, sequence } = bus;
          const late: Envelope[] = [];
          bus.receive = function (this: BusInside, e: Envelope) {
            if (e.c === `r:${old}` && e.e.type === 'rename') late.push(e);
            else receive.call(this, e);
          };
          const deliverLate = () => {
            if (bus.receive === receive) return;
            bus.receive = receive;
            expect(late).toHaveLength(1);
            for (const e of late) receive.call(bus, e);
          };
          let reads = 0;
          bus.snapshot = async function (this: BusInside, room: string) {
            if (room === to && ++reads === 2) {
              bus.snapshot = snapshot;
              await new Promise((r) => setImmediate(r));
              deliverLate();
            }
            return snapshot.call(this, room);
          };
          bus.sequence = async function (this: BusInside, e: Envelope) {
            if (e.e.type !== 'joined' || e.c !== `r:${to}`) return sequence.call(this, e);
            bus.sequence = sequence;
            try {
              return await sequence.call(this, e);
            } finally {
              deliverLate();
            }
          };
        },
      });
    });
  },
);
