/**
 * Replaces the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` in a
 * document (docs generated from code: the option table). Throws when the markers are missing.
 */
export function splice(doc: string, name: string, text: string): string {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`no ${start} … ${end} markers`);
  return `${doc.slice(0, i + start.length)}\n${text}\n${doc.slice(j)}`;
}
