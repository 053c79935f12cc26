import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { analyzeStudy, type AnalysisParams, type Study } from './analyze.js';
import { buildFigures } from './figures.js';
import { buildFindings, findingsMarkdown } from './findings.js';
import { outputTables } from './output-tables.js';
import { renderSpec } from './render.js';
import { reportHtml, type Provenance } from './report.js';
import { writeTable } from './tables.js';

export interface AnalysisSummary {
  runs: number;
  /** Baselines (one per seed) per model, e.g. { "CLIP-HBA": 3, ViT: 3 }. */
  baselines: Record<string, number>;
  recovered: number;
  neverRecovered: number;
  problems: number;
  files: string[];
}

function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  // Some packages do not export package.json: walk up from their entry point to it instead.
  const version = (name: string) => {
    let dir = dirname(require.resolve(name));
    while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
      if (dirname(dir) === dir) return 'unknown';
      dir = dirname(dir);
    }
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  };
  return {
    node: process.version,
    '@lw/analysis': (require('../package.json') as { version: string }).version,
    vega: version('vega'),
    'vega-lite': version('vega-lite'),
    'apache-arrow': version('apache-arrow'),
    '@resvg/resvg-js': version('@resvg/resvg-js'),
  };
}

/**
 * Analyses a study and writes everything into `outDir`: every table as CSV and Arrow, every figure
 * as Vega-Lite JSON, SVG and PNG, the findings (findings.md) and `report.html`. Problems go to `warn` (stderr, task log) as well.
 */
export async function writeAnalysis(
  outDir: string,
  study: Study,
  params: AnalysisParams,
  provenance: Omit<Provenance, 'versions' | 'generated' | 'settings'>,
  warn: (line: string) => void,
): Promise<AnalysisSummary> {
  mkdirSync(outDir, { recursive: true });
  const results = analyzeStudy(study, params);
  for (const p of results.problems) warn(`skipped ${p.source}: ${p.message}`);
  const files: string[] = [];
  const tables = outputTables(results, params);
  for (const table of tables) files.push(...writeTable(outDir, table));
  const rendered = [];
  for (const figure of buildFigures(study.arms, results, params)) {
    const out = await renderSpec(figure.spec);
    writeFileSync(join(outDir, `${figure.id}.vl.json`), JSON.stringify(figure.spec, null, 1));
    writeFileSync(join(outDir, `${figure.id}.svg`), out.svg);
    writeFileSync(join(outDir, `${figure.id}.png`), out.png);
    files.push(`${figure.id}.vl.json`, `${figure.id}.svg`, `${figure.id}.png`);
    rendered.push({ figure, rendered: out });
  }
  const full: Provenance = { ...provenance, generated: new Date().toISOString(), versions: versions(), settings: params };
  const findings = buildFindings(study.arms, results, params);
  writeFileSync(join(outDir, 'findings.md'), findingsMarkdown(findings));
  writeFileSync(join(outDir, 'report.html'), reportHtml(results, findings, rendered, tables, full));
  files.push('findings.md', 'report.html');
  const recovered = results.recovery.filter((r) => r.recovery_epochs !== null).length;
  return {
    runs: results.effects.length,
    baselines: Object.fromEntries(study.arms.map((a) => [a.model, a.baselines.length])),
    recovered,
    neverRecovered: results.recovery.length - recovered,
    problems: results.problems.length,
    files,
  };
}
