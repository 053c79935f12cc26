import { perturbationKinds, type PerturbationKind } from '@lw/core';
import { spearman } from '@lw/eval';
import type { AnalysisParams, Arm, Results, SummaryRow } from './analyze.js';
import { typeLabel } from './labels.js';
import { measureNotes } from './measure-findings.js';

/**
 * The "Findings" at the top of the report: sentences written from the analysed numbers, per model
 * and perturbation type. Nothing here is a fixed claim about a study; every statement is computed
 * from the summary table (means, intervals, paired tests with their BH q-values) and says how
 * strong its evidence is: beyond seed noise (q below the FDR level), within it, or untested (one
 * run per condition).
 */
export interface TypeFindings {
  type: PerturbationKind;
  label: string;
  /** Starts of single-epoch runs whose ΔRSA at E is beyond seed noise, up or down; the rest within it. */
  raised: number[];
  lowered: number[];
  withinNoise: number[];
  /** Single-epoch starts with one run only (no test), by the sign of their ΔRSA. */
  untestedUp: number[];
  untestedDown: number[];
  /** Conditions where loss and alignment part ways (ΔLoss and ΔRSA of the same sign); `beyondNoise` when both effects are. */
  partWays: Array<{ start: number; length: number; dLoss: number; dRsa: number; beyondNoise: boolean }>;
  sentences: string[];
}

export interface ModelFindings {
  model: string;
  seeds: Array<number | null>;
  types: TypeFindings[];
  notes: string[];
}

export interface Findings {
  preamble: string[];
  models: ModelFindings[];
}

type Params = Pick<AnalysisParams, 'fdr' | 'ciLevel' | 'recoveryThreshold' | 'alignmentTolerance'>;

interface Condition {
  model: string;
  type: string;
  start: number;
  length: number;
}

const id = (c: Condition) => `${c.model}|${c.type}|${c.start}|${c.length}`;

/** 1, 2, 3, 5 -> "1–3, 5". */
export function epochList(epochs: number[]): string {
  const sorted = [...new Set(epochs)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : j === i + 1 ? `${sorted[i]}, ${sorted[j]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** A signed number with a real minus sign: ρ to 3 decimals, losses to 3 significant digits (whole numbers from 100). */
export function signed(x: number, kind: 'rsa' | 'loss' | 'epochs'): string {
  const abs = Math.abs(x);
  // Below 0.001 a loss difference is rounding, not an effect worth digits.
  const loss = abs >= 100 ? abs.toFixed(0) : abs >= 0.001 ? abs.toPrecision(3) : abs.toExponential(0);
  const text = kind === 'rsa' ? abs.toFixed(3) : kind === 'epochs' ? String(round1(abs)) : loss;
  return `${x < 0 ? '−' : '+'}${text}`;
}

function plain(x: number, kind: 'rsa' | 'loss'): string {
  return signed(x, kind).replace(/^\+/, '');
}

function interval(r: SummaryRow, kind: 'rsa' | 'loss'): string {
  return r.ci_low === null || r.ci_high === null ? '' : ` [${plain(r.ci_low, kind)}, ${plain(r.ci_high, kind)}]`;
}

function where(c: { start: number; length: number }): string {
  return c.length === 1 ? `E = ${c.start}` : `E = ${c.start}, L = ${c.length}`;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const epochs = (x: number) => `${round1(x)} epoch${round1(x) === 1 ? '' : 's'}`;

/** "3 epochs", or "2–12 epochs (median 4)" over several conditions. */
function range(values: number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? epochs(lo) : `${round1(lo)}–${round1(hi)} epochs (median ${round1(median(values))})`;
}

/** Recovery per condition: mean epochs over the runs that recovered (null when none did), and how many never did. */
interface RecoveryStat {
  start: number;
  length: number;
  epochs: number | null;
  n: number;
  nr: number;
}

function recoveryStats(summary: SummaryRow[], model: string, type: string, measure: string): RecoveryStat[] {
  return summary
    .filter((r) => r.model === model && r.type === type && r.measure === measure)
    .map((r) => ({ start: r.start, length: r.length, epochs: r.n > 0 ? r.mean : null, n: r.n + (r.n_nr ?? 0), nr: r.n_nr ?? 0 }))
    .sort((a, b) => a.start - b.start || a.length - b.length);
}

/** NR ranks above every recovery (it is the slowest): for rank statistics only. */
function rankable(stats: RecoveryStat[]): number[] {
  const finite = stats.flatMap((s) => (s.epochs === null ? [] : [s.epochs]));
  const worst = (finite.length ? Math.max(...finite) : 0) + 1;
  return stats.map((s) => s.epochs ?? worst);
}

/** "3 epochs", "NR", or "4.5 epochs (1/3 NR)": the mean over the seeds that recovered, and how many never did. */
function epochsText(s: RecoveryStat): string {
  if (s.epochs === null) return 'NR';
  return s.nr > 0 ? `${epochs(s.epochs)} (${s.nr}/${s.n} NR)` : epochs(s.epochs);
}

/** "later starts recover faster (Spearman ρ = −0.97 over 5 starts)", from how recovery ranks against start. */
function trend(starts: number[], epochsToRecover: number[]): string {
  if (starts.length < 2) return '';
  if (starts.length === 2) {
    const [a, b] = epochsToRecover as [number, number];
    return b > a ? 'the later start takes longer to recover' : b < a ? 'the later start recovers faster' : 'both starts take as long';
  }
  const r = spearman(starts, epochsToRecover).r;
  if (Number.isNaN(r)) return 'every start takes as long';
  const what = r >= 0.3 ? 'later starts take longer to recover' : r <= -0.3 ? 'later starts recover faster' : 'no clear trend with the start';
  return `${what} (Spearman ρ = ${r < 0 ? '−' : ''}${Math.abs(r).toFixed(2)} over ${starts.length} starts)`;
}

/** How loss recovery depends on start (single epochs) and on length at a fixed start (windows). */
function recoverySentences(summary: SummaryRow[], model: string, type: string, params: Params): string[] {
  const loss = recoveryStats(summary, model, type, 'recovery_epochs');
  if (loss.length === 0) return [];
  const out: string[] = [];
  const single = loss.filter((s) => s.length === 1);
  const threshold = `within ${params.recoveryThreshold}× the baseline loss`;
  if (single.length > 0) {
    const nr = single.filter((s) => s.epochs === null);
    const done = single.flatMap((s) => (s.epochs === null ? [] : [s.epochs]));
    const shown = single.filter((s) => s.epochs !== null);
    const list = shown.length <= 6 ? shown.map((s) => `${epochsText(s)} at E = ${s.start}`).join(', ') : range(done);
    const t = trend(single.map((s) => s.start), rankable(single));
    const nrText = nr.length > 0 ? `never (NR) at E = ${epochList(nr.map((s) => s.start))}` : '';
    const recovered = done.length > 0 ? list : '';
    out.push(`Loss recovery (${threshold}) after one epoch: ${[recovered, nrText].filter(Boolean).join('; ')}${t ? `; ${t}` : ''}.`);
  }
  const windows = loss.filter((s) => s.length > 1);
  if (windows.length > 0) {
    const lengths = [...new Set(windows.map((s) => s.length))].sort((a, b) => a - b);
    // A single-epoch run at the same start is the length-1 point of that start's series.
    const byStart = new Map<number, RecoveryStat[]>();
    for (const s of [...windows, ...single.filter((s) => windows.some((w) => w.start === s.start))]) byStart.set(s.start, [...(byStart.get(s.start) ?? []), s]);
    const series = [...byStart.entries()].filter(([, list]) => list.length >= 2).map(([start, list]) => ({ start, list: list.sort((a, b) => a.length - b.length) }));
    const head = `Windows of ${epochList(lengths)} epochs`;
    if (series.length === 0) {
      const each = windows.length <= 8 ? windows.map((s) => `${epochsText(s)} (${where(s)})`).join(', ') : `${windows.length} windows`;
      out.push(`${head}: loss recovery took ${each}. Each start epoch has one length, so the effect of length cannot be told from that of start.`);
    } else {
      // At a fixed start: does recovery take longer the longer the window (NR counted slowest)?
      let longer = 0;
      let shorter = 0;
      for (const { list } of series) {
        const r = spearman(list.map((s) => s.length), rankable(list)).r;
        if (r > 0) longer++;
        else if (r < 0) shorter++;
      }
      const flat = series.length - longer - shorter;
      const parts = [`at a fixed start, recovery took longer the longer the window (Spearman ρ > 0) at ${longer} of ${series.length} start epochs`];
      if (shorter) parts.push(`shorter at ${shorter}`);
      if (flat) parts.push(`as long at ${flat}`);
      const examples = series
        .slice(0, 4)
        .map(({ start, list }) => `E = ${start}: ${list.map((s) => `L = ${s.length}: ${epochsText(s)}`).join(', ')}`)
        .join('; ');
      const nr = windows.filter((s) => s.epochs === null);
      out.push(`${head}: ${parts.join(', ')} (${examples}${series.length > 4 ? '; …' : ''})${nr.length ? `; ${nr.length} of ${windows.length} windows never recovered (${nr.map(where).join('; ')})` : ''}.`);
    }
    // At a fixed length: does recovery depend on the start?
    const atLength = lengths
      .map((L) => windows.filter((s) => s.length === L))
      .filter((list) => list.length >= 3)
      .map((list) => spearman(list.map((s) => s.start), rankable(list)).r)
      .filter((r) => !Number.isNaN(r));
    if (atLength.length > 0) {
      const later = atLength.filter((r) => r >= 0.3).length;
      const earlier = atLength.filter((r) => r <= -0.3).length;
      out.push(`At a fixed length, later starts took longer at ${later} of ${atLength.length} lengths and shorter at ${earlier} (|Spearman ρ| ≥ 0.3 over ≥ 3 starts).`);
    }
  }
  const align = recoveryStats(summary, model, type, 'alignment_recovery_epochs');
  const back = align.flatMap((s) => (s.epochs === null ? [] : [s.epochs]));
  if (align.length > 0) {
    const nr = align.filter((s) => s.epochs === null).length;
    out.push(
      `Alignment came back within ${params.alignmentTolerance} of the baseline's ρ ${back.length ? `after ${range(back)}` : 'in no run'}` +
        `${nr ? `, never in ${nr} of ${align.length} conditions` : ''}.`,
    );
  }
  return out;
}

/** Which single-epoch starts raise or lower ρ, beyond seed noise where there is a test. */
function alignmentSentences(rsa: SummaryRow[], f: TypeFindings): string[] {
  const single = rsa.filter((r) => r.length === 1).sort((a, b) => a.start - b.start);
  const shown = single.length > 0 ? single : rsa;
  const tested = shown.filter((r) => r.p !== null);
  const untested = shown.filter((r) => r.p === null);
  const out: string[] = [];
  const extreme = (rows: SummaryRow[], sign: number) => rows.reduce((best, r) => (sign * r.mean > sign * best.mean ? r : best));
  if (tested.length > 0) {
    const up = tested.filter((r) => r.significant && r.mean > 0);
    const down = tested.filter((r) => r.significant && r.mean < 0);
    const noise = tested.filter((r) => !(r.significant && r.mean !== 0));
    f.raised = up.map((r) => r.start);
    f.lowered = down.map((r) => r.start);
    f.withinNoise = noise.map((r) => r.start);
    const n = [...new Set(tested.map((r) => r.n))].sort((a, b) => a - b);
    const seeds = n.length === 1 ? `${n[0]} seeds` : `${n[0]}–${n.at(-1)} seeds`;
    const list = (rows: SummaryRow[]) => (rows.every((r) => r.length === 1) ? `E = ${epochList(rows.map((r) => r.start))}` : rows.map(where).join('; '));
    const clause = (rows: SummaryRow[], verb: string, sign: number) => {
      const e = extreme(rows, sign);
      return `${verb} at ${list(rows)} (${rows.length > 1 ? 'largest ' : ''}${signed(e.mean, 'rsa')}${interval(e, 'rsa')}${rows.length > 1 ? ` at ${where(e)}` : ''}, q = ${e.q!.toPrecision(2)})`;
    };
    const parts: string[] = [];
    if (up.length) parts.push(clause(up, 'raised beyond seed noise', 1));
    if (down.length) parts.push(clause(down, 'lowered beyond seed noise', -1));
    if (noise.length) {
      const biggest = noise.reduce((best, r) => (Math.abs(r.mean) > Math.abs(best.mean) ? r : best));
      const detail = `${noise.length > 1 ? 'largest ' : 'Δρ '}${signed(biggest.mean, 'rsa')}${interval(biggest, 'rsa')}${noise.length > 1 ? ` at ${where(biggest)}` : ''}, q = ${biggest.q!.toPrecision(2)}`;
      parts.push(up.length || down.length ? `within seed noise at ${list(noise)} (${detail})` : `no start beyond seed noise (${list(noise)}; ${detail})`);
    }
    out.push(`ΔRSA at the perturbed epoch (${seeds}): ${parts.join('; ')}.`);
  }
  if (untested.length > 0) {
    const up = untested.filter((r) => r.mean > 0);
    const down = untested.filter((r) => r.mean < 0);
    f.untestedUp = up.map((r) => r.start);
    f.untestedDown = down.map((r) => r.start);
    const values = (rows: SummaryRow[]) => rows.map((r) => `${where(r)} (${signed(r.mean, 'rsa')})`).join(', ');
    const parts: string[] = [];
    if (up.length) parts.push(`higher at ${values(up)}`);
    if (down.length) parts.push(`lower at ${values(down)}`);
    const zero = untested.length - up.length - down.length;
    if (zero) parts.push(`unchanged at ${zero}`);
    out.push(`ΔRSA at the perturbed epoch (one run${untested.length > 1 ? ' each' : ''}, no test): ${parts.join('; ')}.`);
  }
  return out;
}

/** Where ΔLoss and ΔRSA have the same sign: loss worse and alignment better (or both the other way). */
function partWaysSentences(loss: Map<string, SummaryRow>, rsa: SummaryRow[], f: TypeFindings, model: string): string[] {
  const rows = rsa.map((r) => ({ r, l: loss.get(id(r)) })).filter((x): x is { r: SummaryRow; l: SummaryRow } => x.l !== undefined);
  if (rows.length === 0) return [];
  const unit = model === 'CLIP-HBA' ? 'MSE' : 'cross-entropy';
  // Below 1e-12 a mean is rounding of equal numbers (x + d − x), not a direction.
  const sign = (x: number) => (Math.abs(x) < 1e-12 ? 0 : Math.sign(x));
  const apart = rows.filter(({ r, l }) => sign(r.mean) !== 0 && sign(r.mean) === sign(l.mean));
  f.partWays = apart.map(({ r, l }) => ({ start: r.start, length: r.length, dLoss: l.mean, dRsa: r.mean, beyondNoise: r.significant === true && l.significant === true }));
  const tested = rows.some(({ r, l }) => r.p !== null && l.p !== null);
  const describe = ({ r, l }: { r: SummaryRow; l: SummaryRow }) => `${where(r)} (ΔLoss ${signed(l.mean, 'loss')} ${unit}, ΔRSA ${signed(r.mean, 'rsa')})`;
  const cap = (list: typeof rows) => (list.length > 6 ? `${list.slice(0, 6).map(describe).join(', ')} and ${list.length - 6} more` : list.map(describe).join(', '));
  if (apart.length === 0) {
    const worse = rows.filter(({ r, l }) => l.mean > 0 && r.mean < 0).length;
    return [`Loss and alignment do not part ways: ${worse === rows.length ? 'wherever the loss rose, ρ fell' : `ΔLoss and ΔRSA have opposite signs (or one is 0) in ${rows.length === 1 ? 'the one condition' : `all ${rows.length} conditions`}`}.`];
  }
  const upUp = apart.filter(({ l }) => l.mean > 0);
  const downDown = apart.filter(({ l }) => l.mean < 0);
  const kinds = [upUp.length ? 'loss up with alignment up too' : '', downDown.length ? 'loss down with alignment down' : ''].filter(Boolean).join(', or ');
  const elsewhere = apart.length < rows.length ? `; elsewhere (${rows.length - apart.length} of ${rows.length}) they move oppositely` : ` (all ${rows.length} conditions)`;
  if (!tested) return [`Loss and alignment part ways (${kinds}) at ${cap(apart)}${elsewhere}. One run per condition: not tested against seed noise.`];
  const beyond = apart.filter(({ r, l }) => r.significant && l.significant);
  const means = apart.length - beyond.length;
  const alsoMeans = means ? ` Their means also share a sign at ${means} more condition${means > 1 ? 's' : ''}, not both beyond seed noise.` : '';
  if (beyond.length === 0) {
    return [`Loss and alignment do not part ways beyond seed noise (ΔLoss and ΔRSA share a sign at ${apart.length} of ${rows.length} conditions, e.g. ${describe(apart[0]!)}, but not both beyond noise).`];
  }
  const beyondKinds = [beyond.some(({ l }) => l.mean > 0) ? 'loss up with alignment up too' : '', beyond.some(({ l }) => l.mean < 0) ? 'loss down with alignment down' : ''].filter(Boolean).join(', or ');
  return [`Loss and alignment part ways beyond seed noise in both measures (${beyondKinds}) at ${cap(beyond)}.${alsoMeans}`];
}

/** The findings of one analysed study: preamble, then per model and perturbation type. */
export function buildFindings(arms: Arm[], results: Results, params: Params): Findings {
  const summary = results.summary;
  const rsaRows = summary.filter((r) => r.measure === 'delta_rsa');
  const lossRows = new Map(summary.filter((r) => r.measure === 'delta_test_loss').map((r) => [id(r), r]));
  const tested = rsaRows.filter((r) => r.p !== null);
  const preamble: string[] = [
    'Every effect is a perturbed run minus the baseline of the same seed at the perturbed epoch E (ΔLoss, and ΔRSA = Δρ of the RSA with the human RDM); recovery is counted from the last perturbed epoch.',
  ];
  if (tested.length > 0) {
    const m = (measure: string) => summary.filter((r) => r.measure === measure && r.p !== null).length;
    preamble.push(
      `An effect counts as beyond seed-to-seed variation when the t-test paired by seed (one-sample t of the per-seed differences run − baseline, two-sided, df = n − 1) ` +
        `has a Benjamini-Hochberg q < ${params.fdr}, correcting for the ${m('delta_rsa')} conditions tested for ΔRSA and the ${m('delta_test_loss')} tested for ΔLoss (each measure one family, across every model). ` +
        `Intervals are ${Math.round(params.ciLevel * 100)}% t-intervals over seeds.`,
    );
  }
  const untested = rsaRows.length - tested.length;
  if (untested > 0) {
    preamble.push(
      tested.length === 0
        ? 'Every condition has one run (a single seed), so there are no intervals and no tests: telling an effect from seed noise needs ≥ 2 seeds per condition (3 recommended). Below, "higher" and "lower" are the signs of single differences, not effects beyond noise.'
        : `${untested} of ${rsaRows.length} conditions have one run only: they are listed by sign, untested (tests need ≥ 2 seeds, 3 recommended).`,
    );
  }
  if (results.problems.length > 0) preamble.push(`${results.problems.length} inputs could not be analysed (see Problems); the findings leave them out.`);

  const models: ModelFindings[] = arms.map((arm) => {
    const types: TypeFindings[] = [];
    for (const type of perturbationKinds) {
      const rsa = rsaRows.filter((r) => r.model === arm.model && r.type === type).sort((a, b) => a.start - b.start || a.length - b.length);
      if (rsa.length === 0) continue;
      const f: TypeFindings = { type, label: typeLabel(type), raised: [], lowered: [], withinNoise: [], untestedUp: [], untestedDown: [], partWays: [], sentences: [] };
      f.sentences.push(...alignmentSentences(rsa, f));
      if (arm.runsContinue) f.sentences.push(...recoverySentences(summary, arm.model, type, params));
      f.sentences.push(...partWaysSentences(lossRows, rsa, f, arm.model));
      types.push(f);
    }
    const notes = arm.runsContinue ? [] : ['One-epoch measurements (method §7.3): training stops after the perturbed epoch, so there is no recovery to measure.'];
    if (types.length === 0) notes.push('No perturbation runs were analysed for this model.');
    notes.push(...measureNotes(arm, results));
    return { model: arm.model, seeds: arm.baselines.map((b) => b.seed), types, notes };
  });
  return { preamble, models };
}

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function seedsText(seeds: Array<number | null>): string {
  const known = seeds.filter((s): s is number => s !== null);
  if (seeds.length === 1) return known.length ? `1 baseline, seed ${known[0]}` : '1 baseline';
  return `${seeds.length} baselines${known.length ? `, seeds ${epochList(known)}` : ''}`;
}

export function findingsHtml(f: Findings): string {
  const models = f.models
    .map(
      (m) => `<h3>${escape(m.model)} <span class="files">${escape(seedsText(m.seeds))}</span></h3>
${m.notes.map((n) => `<p>${escape(n)}</p>`).join('')}<ul>${m.types.map((t) => `<li><b>${escape(t.label)}</b><ul>${t.sentences.map((x) => `<li>${escape(x)}</li>`).join('')}</ul></li>`).join('\n')}</ul>`,
    )
    .join('\n');
  return `<section id="findings"><h2>Findings</h2>
${f.preamble.map((p) => `<p>${escape(p)}</p>`).join('\n')}
${models}</section>`;
}

export function findingsMarkdown(f: Findings): string {
  const lines = ['# Findings', '', ...f.preamble.flatMap((p) => [p, ''])];
  for (const m of f.models) {
    lines.push(`## ${m.model} (${seedsText(m.seeds)})`, '', ...m.notes.flatMap((n) => [n, '']));
    for (const t of m.types) lines.push(`- **${t.label}.** ${t.sentences.join(' ')}`);
    lines.push('');
  }
  return lines.join('\n');
}
