/**
 * An insertion-ordered map for a handful of entries, the first kept inline. A JS Map
 * allocates a hash table even for one entry (~180 bytes with the Map); a session's join
 * marks (one per room it is in, most sessions in one room) cost 48 bytes here, and a scan
 * of a few entries is as fast as hashing.
 */
const NONE: unique symbol = Symbol('none');

export class SmallMap<K, V> {
  private firstKey: K | typeof NONE = NONE;
  private firstValue: V | undefined = undefined;
  /** The entries after the first, oldest first, flat: key, value, key, value. Null: none. */
  private rest: Array<K | V> | null = null;

  get size(): number {
    if (this.firstKey === NONE) return 0;
    return 1 + (this.rest === null ? 0 : this.rest.length / 2);
  }

  get(key: K): V | undefined {
    if (this.firstKey === key) return this.firstValue;
    const i = this.restIndex(key);
    return i < 0 ? undefined : ((this.rest as Array<K | V>)[i + 1] as V);
  }

  has(key: K): boolean {
    return this.firstKey === key || this.restIndex(key) >= 0;
  }

  set(key: K, value: V): this {
    if (this.firstKey === NONE || this.firstKey === key) {
      this.firstKey = key;
      this.firstValue = value;
      return this;
    }
    const i = this.restIndex(key);
    if (i >= 0) (this.rest as Array<K | V>)[i + 1] = value;
    else if (this.rest === null) this.rest = [key, value];
    else this.rest.push(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (this.firstKey === NONE) return false;
    const rest = this.rest;
    if (this.firstKey === key) {
      if (rest === null) {
        this.firstKey = NONE;
        this.firstValue = undefined;
      } else {
        // The next oldest moves up: the order stays that of insertion.
        this.firstKey = rest[0] as K;
        this.firstValue = rest[1] as V;
        this.dropRest(0);
      }
      return true;
    }
    const i = this.restIndex(key);
    if (i < 0) return false;
    this.dropRest(i);
    return true;
  }

  /** Oldest first, like Map.prototype.entries. */
  *entries(): IterableIterator<[K, V]> {
    if (this.firstKey === NONE) return;
    yield [this.firstKey, this.firstValue as V];
    const rest = this.rest;
    if (rest !== null)
      for (let i = 0; i < rest.length; i += 2) yield [rest[i] as K, rest[i + 1] as V];
  }

  private restIndex(key: K): number {
    const rest = this.rest;
    if (rest === null) return -1;
    for (let i = 0; i < rest.length; i += 2) if (rest[i] === key) return i;
    return -1;
  }

  private dropRest(i: number): void {
    const rest = this.rest as Array<K | V>;
    if (rest.length === 2) this.rest = null;
    else rest.splice(i, 2);
  }
}
