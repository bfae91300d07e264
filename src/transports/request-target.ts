/**
 * The path and query of an HTTP request target, without throwing. RFC 9112 §3.2 allows
 * four forms: origin-form (`/path?q`), absolute-form (`http://host:port/path`, which
 * proxies send and anyone may), authority-form (CONNECT) and asterisk-form (`*`).
 * `new URL(target, base)` throws on an absolute-form target with a bad host or port
 * (`http://a:99999/`); thrown inside Node's request handler that ended the process.
 * Only the path and query matter here, so the authority is skipped, never parsed.
 */
export interface RequestTarget {
  /** Percent-encoded path, as sent (static-files.ts decodes and confines it). */
  path: string;
  query: URLSearchParams;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

export function parseTarget(raw: string | undefined): RequestTarget | null {
  if (raw === undefined || raw === '') return null;
  let rest: string;
  if (raw.startsWith('/')) {
    rest = raw;
  } else {
    const scheme = SCHEME.exec(raw);
    if (!scheme) return null; // authority-form, asterisk-form, or junk: nothing we serve
    const slash = raw.indexOf('/', scheme[0].length);
    rest = slash < 0 ? '/' : raw.slice(slash);
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  return {
    path: path === '' ? '/' : path,
    query: new URLSearchParams(q < 0 ? '' : rest.slice(q + 1)),
  };
}
