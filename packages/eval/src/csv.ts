/**
 * A small CSV reader for the files this package loads (SPoSE embeddings, numeric matrices):
 * comma-separated, optional double quotes, "\n" or "\r\n" line ends, blank lines skipped. Each row
 * keeps its 1-based line number so errors can name it.
 */

export interface CsvRow { line: number; cells: string[]; }

function splitLine(text: string): string[] {
  if (!text.includes('"')) return text.split(',');
  const cells: string[] = [];
  let cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { cells.push(cell); cell = ''; }
    else cell += ch;
  }
  cells.push(cell);
  return cells;
}

export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (line.trim() === '') continue;
    rows.push({ line: i + 1, cells: splitLine(line) });
  }
  return rows;
}

/** A number as CSV writers print them (incl. nan/inf spellings), or null for anything else. */
export function parseNumber(cell: string): number | null {
  const t = cell.trim();
  if (t === '') return null;
  const v = Number(t);
  if (!Number.isNaN(v)) return v;
  const lower = t.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return null;
}
