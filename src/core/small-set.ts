/**
 * An insertion-ordered set kept in a plain array. A JS Set allocates a hash table even for
 * one entry (~190 bytes); every session holds a set of its rooms, most with one or two
 * members and at most `maxRoomsPerUser`, where a linear scan is as fast as hashing.
 */
export class SmallSet<T> implements Iterable<T> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  has(item: T): boolean {
    return this.items.includes(item);
  }

  add(item: T): this {
    if (!this.items.includes(item)) this.items.push(item);
    return this;
  }

  delete(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  /** The oldest entry, or undefined. */
  first(): T | undefined {
    return this.items[0];
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.items.values();
  }
}
