/**
 * Splits message text into plain text and links. Only http: and https: URLs become links
 * (never javascript:, data: or anything else), and the caller renders both kinds with
 * textContent / href, never as markup.
 */
export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that usually ends the sentence rather than the URL. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

export function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function linkify(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0];
    // Keep a closing parenthesis that belongs to the URL (Wikipedia links) when balanced.
    const trail = TRAILING.exec(raw);
    if (trail) {
      let cut = trail[0];
      const opens = (raw.match(/\(/g) ?? []).length;
      const closes = (raw.match(/\)/g) ?? []).length;
      if (cut.startsWith(')') && opens >= closes) cut = cut.slice(1);
      raw = raw.slice(0, raw.length - cut.length);
    }
    const start = match.index;
    const href = safeHref(raw);
    if (href === null || raw.length <= 'https://'.length) continue;
    if (start > last) out.push({ kind: 'text', text: text.slice(last, start) });
    out.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}
