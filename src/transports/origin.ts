/**
 * WebSocket Origin check. Browsers attach an Origin header to every WebSocket handshake and
 * let any page open a socket to any host, so without this check a page on another site
 * could chat in the visitor's name (cross-site WebSocket hijacking). Non-browser clients
 * (bots, the test suite) send no Origin and are not at risk, so a missing Origin passes.
 */

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

/**
 * True when a handshake with this Origin may proceed. With an allow-list, the Origin must
 * be on it (exact scheme, host and port); without one, the Origin's host and port must be
 * the Host the browser connected to, i.e. the page came from this server.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowList: readonly string[],
): boolean {
  if (origin === undefined) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  if (allowList.length > 0) {
    return allowList.some((allowed) => allowed === '*' || normalizeOrigin(allowed) === normalized);
  }
  if (host === undefined) return false;
  return new URL(normalized).host === host.toLowerCase();
}
