import type { Results } from './analyze.js';
import type { Figure } from './figures.js';
import { findingsHtml, type Findings } from './findings.js';
import type { RenderedFigure } from './render.js';
import type { MaterializedTable } from './tables.js';

/** Where the analysed results came from, shown at the end of the report. */
export interface Provenance {
  generated: string;
  /** The pipeline file and task that ran this analysis, when run as a stage. */
  pipeline?: { file?: string; name?: string; task?: string; key?: string };
  /** One entry per analysed input: role, name, file or task key, stage, backend, dates, params. */
  inputs: Array<Record<string, unknown>>;
  versions: Record<string, string>;
  settings: Record<string, unknown>;
}

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function format(cell: string): string {
  const n = Number(cell);
  return cell !== '' && Number.isFinite(n) && !Number.isInteger(n) ? n.toPrecision(5) : cell;
}

/** An HTML table from the same cell texts as the CSV on disk, so the two cannot disagree. */
function htmlTable(table: MaterializedTable, maxRows = 400): string {
  const [head, ...lines] = table.cells;
  const shown = lines.slice(0, maxRows);
  const more = lines.length > maxRows ? `<p class="note">${lines.length - maxRows} more rows in ${table.name}.csv</p>` : '';
  const cells = (line: string[], tag: string) => line.map((c) => `<${tag}>${escape(format(c))}</${tag}>`).join('');
  return `<section class="table" id="table-${table.name}"><h3>${escape(table.title)} <span class="files">${table.name}.csv · ${table.name}.arrow</span></h3>
<div class="scroll"><table><thead><tr>${cells(head!, 'th')}</tr></thead><tbody>
${shown.map((l) => `<tr>${cells(l, 'td')}</tr>`).join('\n')}
</tbody></table></div>${more}</section>`;
}

function figureHtml(figure: Figure, rendered: RenderedFigure): string {
  const png = Buffer.from(rendered.png).toString('base64');
  return `<figure id="${figure.id}"><img alt="${escape(figure.title)}" width="${Math.round(rendered.width)}" height="${Math.round(rendered.height)}" src="data:image/png;base64,${png}">
<figcaption><b>${escape(figure.title)}.</b> ${escape(figure.caption)} <span class="files">${figure.id}.svg · ${figure.id}.png · ${figure.id}.vl.json</span></figcaption></figure>`;
}

function provenanceHtml(p: Provenance): string {
  const json = (v: unknown) => `<pre>${escape(JSON.stringify(v, null, 2))}</pre>`;
  return `<section id="provenance"><h2>Provenance</h2>
<p>Generated ${escape(p.generated)}.</p>
${p.pipeline ? `<h3>Pipeline</h3>${json(p.pipeline)}` : ''}
<h3>Settings</h3>${json(p.settings)}
<h3>Versions</h3>${json(p.versions)}
<h3>Inputs (${p.inputs.length})</h3>
${inputsTable(p.inputs)}
<details><summary>every input in full (params, versions)</summary>${json(p.inputs)}</details></section>`;
}

/** `{ name: 'wasm', version: '4.22.0', threads: 2 }` -> `wasm 4.22.0 (2 threads)`. */
function backendText(backend: unknown): string {
  if (typeof backend !== 'object' || backend === null) return backend === undefined ? '' : String(backend);
  const b = backend as Record<string, unknown>;
  const threads = b.threads ? ` (${String(b.threads)} threads)` : '';
  const adapter = b.adapter ? ` on ${String(b.adapter)}` : '';
  return `${String(b.name ?? '')} ${String(b.version ?? '')}${threads}${adapter}`.trim();
}

function inputsTable(inputs: Array<Record<string, unknown>>): string {
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const rows = inputs.map((i) =>
    [i.role, i.name ?? i.stage, i.key ?? i.file, backendText(i.backend), i.finished ?? i.started]
      .map((v) => `<td>${escape(text(v))}</td>`)
      .join(''),
  );
  return `<div class="scroll"><table class="left"><thead><tr><th>role</th><th>run / stage</th><th>task key or file</th><th>backend</th><th>finished</th></tr></thead>
<tbody>${rows.map((r) => `<tr>${r}</tr>`).join('\n')}</tbody></table></div>`;
}

const STYLE = `body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}figcaption{font-size:.9em;color:#444;max-width:900px}
.files{font-size:.8em;color:#888;font-weight:normal}.scroll{max-height:420px;overflow:auto;border:1px solid #ddd}
table{border-collapse:collapse;font-size:.82em}th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{position:sticky;top:0;background:#f4f4f4}#findings{max-width:980px;line-height:1.45}#findings li{margin:.3em 0}#findings li ul{margin:.2em 0;padding-left:1.2em}table.left td,table.left th{text-align:left}.problems{color:#a00}pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.8em}`;

/** One self-contained HTML file: the findings, figures as PNG data URIs, every table, the problems and the provenance. */
export function reportHtml(
  results: Results,
  findings: Findings,
  figures: Array<{ figure: Figure; rendered: RenderedFigure }>,
  tables: MaterializedTable[],
  provenance: Provenance,
): string {
  const problems = results.problems.length
    ? `<section class="problems"><h2>Problems (${results.problems.length})</h2><p>These files or runs were skipped; everything else was analysed.</p><ul>${results.problems
        .map((p) => `<li><code>${escape(p.source)}</code>: ${escape(p.message)}</li>`)
        .join('')}</ul></section>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Critical-period analysis</title>
<style>${STYLE}</style></head><body>
<h1>Critical-period analysis</h1>
<p>${results.effects.length} runs analysed, ${results.recovery.length} with loss recovery, ${results.problems.length} problems.</p>
${findingsHtml(findings)}
${problems}
<h2>Figures</h2>
${figures.map((f) => figureHtml(f.figure, f.rendered)).join('\n')}
<h2>Tables</h2>
${tables.map((t) => htmlTable(t)).join('\n')}
${provenanceHtml(provenance)}
</body></html>
`;
}
