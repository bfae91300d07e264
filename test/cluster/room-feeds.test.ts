/**
 * RoomFeeds without a transport: what a feed does when a room's epoch changes under it.
 * The host either takes the room's state again (nobody on the node is in the room yet: a
 * rename moved another room onto the name) and the feed waits for its resume, or the
 * room's history was lost, which is said once, and the feed starts over.
 */
import { describe, expect, test } from 'vitest';
import type { Envelope } from '../../src/cluster/bus.js';
import { RoomFeeds, type FeedHost } from '../../src/cluster/room-feeds.js';

const C = 'r:#room';

function envelope(p: number, x: string, s = p): Envelope {
  return {
    o: 'n1',
    s,
    c: C,
    k: s,
    p,
    x,
    e: { type: 'notice', ts: 0, origin: 'n1', text: `${x}:${p}` },
  };
}

function feeds(retake: boolean) {
  const delivered: string[] = [];
  const lost: number[] = [];
  const host: FeedHost = {
    deliver: (e) => delivered.push(`${e.x}:${e.p}`),
    recover: () => Promise.resolve([]),
    lost: (_c, missed) => lost.push(missed),
    retake: () => retake,
  };
  const f = new RoomFeeds(host);
  f.open(C, true);
  f.resume(C, 'old', 1);
  f.place(envelope(1, 'old'));
  return { f, delivered, lost };
}

describe('a room feed meeting a new epoch', () => {
  test('taken again: held, nothing lost, the events after the new snapshot delivered once', () => {
    const { f, delivered, lost } = feeds(true);
    f.place(envelope(7, 'new'));
    f.place(envelope(8, 'new'));
    // A late envelope of the epoch the feed left is not for the replica being read again.
    f.place(envelope(2, 'old'));
    expect(delivered).toEqual(['old:1']);
    expect(f.base(C)).toBe('old');
    // The snapshot stands for offset 7: the feed goes on at 8.
    f.resume(C, 'new', 8);
    f.place(envelope(9, 'new'));
    f.place(envelope(8, 'new'));
    expect(delivered).toEqual(['old:1', 'new:8', 'new:9']);
    expect(lost).toEqual([]);
    expect(f.base(C)).toBe('new');
  });

  test('not taken again (someone here is in the room): said lost once, started over', () => {
    const { f, delivered, lost } = feeds(false);
    f.place(envelope(7, 'new'));
    f.place(envelope(8, 'new'));
    expect(delivered).toEqual(['old:1', 'new:7', 'new:8']);
    expect(lost).toEqual([-1]);
    expect(f.base(C)).toBe('new');
  });

  test('a resume of a feed already resumed (a second snapshot read at once) does not move it', () => {
    const { f, delivered } = feeds(true);
    f.resume(C, 'old', 5);
    f.place(envelope(2, 'old'));
    expect(delivered).toEqual(['old:1', 'old:2']);
  });

  test('a hold of a feed held already keeps what it kept', () => {
    const { f, delivered } = feeds(true);
    f.hold(C, 'new');
    f.place(envelope(4, 'new'));
    f.hold(C, null);
    f.resume(C, 'new', 4);
    expect(delivered).toEqual(['old:1', 'new:4']);
  });
});
