/**
 * WebSocket Origin check. Browsers attach an Origin header to every WebSocket handshake and
 * let any page open a socket to any host, so without this check a page on another site
 * could chat in the visitor's name (cross-site WebSocket hijacking). Non-browser clients
 * (bots, the test suite) send no Origin and are not at risk, so a missing Origin passes.
 *
 * Comparing the Origin with the Host header is not enough by itself: after DNS
 * rebinding, a page from http://evil.example:8080 whose name the attacker has pointed at
 * this server sends Origin http://evil.example:8080 and Host evil.example:8080, which
 * agree. So without an explicit allow-list the Host must also be a name this server is
 * known by: an IP literal (a rebinding page cannot have one as its origin), `localhost`
 * (browsers resolve it themselves, never through DNS), or a name given with
 * --public-host.
 */
import { isIP } from 'node:net';

/** "https://Example.com:443" → "https://example.com"; null when it is not an http(s) origin. */
export function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin.toLowerCase();
  } catch {
    return null;
  }
}

/** The host name of a Host header ("[::1]:8080" → "::1"), lower case; null if malformed. */
export function hostName(host: string): string | null {
  try {
    const name = new URL(`http://${host}`).hostname.toLowerCase();
    return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  } catch {
    return null;
  }
}

/** True for names a DNS-rebinding page cannot take: IP literals, localhost, --public-host. */
export function knownHost(host: string, publicHosts: readonly string[]): boolean {
  const name = hostName(host);
  if (name === null || name === '') return false;
  if (isIP(name) !== 0 || name === 'localhost') return true;
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return publicHosts.some((h) => h.toLowerCase() === bare);
}

/**
 * True when a handshake with this Origin may proceed. With an allow-list, the Origin must
 * be on it (exact scheme, host and port); without one, the Origin's host and port must be
 * the Host the browser connected to, i.e. the page came from this server, and that Host
 * must be one this server is known by (see above).
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowList: readonly string[],
  publicHosts: readonly string[] = [],
): boolean {
  if (origin === undefined) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  if (allowList.length > 0) {
    return allowList.some((allowed) => allowed === '*' || normalizeOrigin(allowed) === normalized);
  }
  if (host === undefined) return false;
  if (new URL(normalized).host !== host.toLowerCase()) return false;
  return knownHost(host, publicHosts);
}
