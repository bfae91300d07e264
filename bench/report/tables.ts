/**
 * Markdown tables and their cells, shared by the benchmark page and its cluster section.
 */
import type { Fig } from '../summary.js';

/** A Markdown table: a head row, its rule, then the rows. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A median with its validity: "12.3" or "12.3 (1/3 valid)" or "12.3 ✗" (no valid run). */
export function cell(f: Fig | undefined, show: (x: number) => string): string {
  if (!f || f.runs === 0) return '–';
  const v = show(f.median);
  if (f.valid === f.runs) return v;
  if (f.valid === 0) return `${v} ✗`;
  return `${v} (${f.valid}/${f.runs} valid)`;
}
