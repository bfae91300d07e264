/**
 * A set of address ranges written as CIDR ("127.0.0.0/8", "::1", "10.1.2.0/24"), for
 * `--limit-exempt`. Matching is Node's net.BlockList (IPv4, IPv6 and IPv4-mapped IPv6).
 */
import net from 'node:net';

export interface AddressSet {
  has(address: string): boolean;
  /** The ranges as given, normalized ("127.0.0.0/8,::1/128"), for logs and stats. */
  readonly text: string;
}

/** Loopback: a local benchmark or test opens thousands of connections from it. */
export const DEFAULT_LIMIT_EXEMPT = '127.0.0.0/8,::1';

export class AddressSetError extends Error {}

/**
 * Parses a comma-separated list of CIDR ranges or bare addresses; '' or 'none' is the
 * empty set. Throws AddressSetError naming the first entry that is not one.
 */
export function parseAddressSet(list: string): AddressSet {
  const blocks = new net.BlockList();
  const ranges: string[] = [];
  const entries = list.trim() === 'none' ? [] : list.split(',');
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const family = net.isIP(address);
    if (family === 0) throw new AddressSetError(`"${entry}" is not an address or CIDR range`);
    const bits = family === 4 ? 32 : 128;
    const prefixText = slash < 0 ? String(bits) : entry.slice(slash + 1);
    const prefix = Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText) || prefix > bits) {
      throw new AddressSetError(`"${entry}": the prefix length must be 0 to ${bits}`);
    }
    blocks.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    ranges.push(`${address}/${prefix}`);
  }
  return {
    has(address: string): boolean {
      const family = net.isIP(address);
      if (family === 0 || ranges.length === 0) return false;
      return blocks.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
    text: ranges.join(',') || 'none',
  };
}
