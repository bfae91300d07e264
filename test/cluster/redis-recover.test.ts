/**
 * Resume by offset on the Redis bus, on one redis-server and on a Redis Cluster of three
 * masters: envelopes a node never received (sequenced and kept in the room's stream, but
 * lost on their way to it) are fetched from the stream by offset (RECOVER, in the room's
 * slot) as soon as a later one shows the hole, and delivered in order before it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Envelope } from '../../src/cluster/bus.js';
import { connectRedis } from '../../src/cluster/redis-client.js';
import { RedisBus } from '../../src/cluster/redis-bus.js';
import { roomKeyList, roomKeys } from '../../src/cluster/redis-keys.js';
import { SEQUENCE } from '../../src/cluster/redis-scripts.js';
import type { ChatEvent, NoticeEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/ports.js';
import { REDIS_BACKENDS, type RedisBackend } from '../helpers/redis-backends.js';

describe.each(REDIS_BACKENDS)('on $name', (kind) => {
  let redis: RedisBackend;
  beforeAll(async () => {
    redis = await kind.start();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  test('a hole in a room is filled from its stream, by offset, in order', async () => {
    await redis.flush();
    const connect = () =>
      RedisBus.connect({ url: redis.url, log: silentLogger, defaultRoom: '#lobby' });
    const [a, b] = [await connect(), await connect()];
    const got: string[] = [];
    const gaps: number[] = [];
    await a.start({ deliver: () => {}, gap: () => {} });
    await b.start({
      deliver: (e: ChatEvent) => got.push((e as NoticeEvent).text),
      gap: (_o, _c, missed) => gaps.push(missed),
    });
    const room = '#hole';
    b.watch(room);
    const snap = await b.snapshot(room);
    b.resume(room, { epoch: snap.epoch, next: snap.offset + 1 });
    const say = (text: string) =>
      a.emit({ type: 'notice', ts: Date.now(), origin: a.nodeId, text, room }, { rooms: [room] });
    await say('first');
    // Three envelopes sequenced by the real script into the room's stream, but published
    // to a channel nobody listens to (in the room's slot, as SPUBLISH from a script needs):
    // lost in transit, as far as node b can tell.
    const link = await connectRedis({ url: redis.url, log: silentLogger });
    const keys = roomKeys(room);
    const epoch = (await link.command(['HGET', keys.meta, 'e'])) as string;
    for (let i = 1; i <= 3; i++) {
      const envelope: Envelope = {
        o: 'nelsewhere',
        s: i,
        c: `r:${room}`,
        k: i,
        e: { type: 'notice', ts: Date.now(), origin: 'nelsewhere', text: `lost ${i}`, room },
      };
      await link.script(SEQUENCE, roomKeyList(keys), [
        `${keys.channel}:nowhere`,
        JSON.stringify(envelope),
        '1000',
        epoch,
        '[]',
        link.sharded ? 'SPUBLISH' : 'PUBLISH',
      ]);
    }
    await say('after');
    const deadline = Date.now() + 10_000;
    while (got.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['first', 'lost 1', 'lost 2', 'lost 3', 'after']);
    expect(gaps).toEqual([]);
    await link.close();
    await a.close();
    await b.close();
  });
});
