import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageVersions } from '@lw/core';
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

/** The versions of what made the report's tables and figures (report.html's provenance). */
function versions(): Record<string, string> {
  return packageVersions(['@lw/analysis', 'vega', 'vega-lite', 'apache-arrow', '@resvg/resvg-js'], import.meta.url);
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
