import { dirname, resolve } from 'node:path';
import { UserError, type CliCommand } from '@lw/core';
import { AnalysisParams } from './analyze.js';
import { loadStudyFromDirs, type StudyDirs } from './load.js';
import { readTaskInfo } from './task-info.js';
import { writeAnalysis, type AnalysisSummary } from './write.js';

export interface AnalyzeArgs extends StudyDirs {
  out: string;
  threshold?: number;
  tolerance?: number;
  /** Start epochs shown in Fig 2 (default: the study's). */
  fig2Epochs?: number[];
  json?: boolean;
}

/** Backend, versions and dates from the task info beside a metrics file, when there is any. */
function infoBeside(file: string): Record<string, unknown> {
  try {
    const { params: _params, ...info } = readTaskInfo(dirname(file));
    return Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined));
  } catch (e) {
    return { taskInfoError: (e as Error).message };
  }
}

/** `lw analyze`: the study's CSV folders (or ours) -> tables, figures and report.html in --out. */
export async function analyzeCommand(args: AnalyzeArgs): Promise<AnalysisSummary> {
  const list = (v: string | string[] | undefined) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map((p) => resolve(p)));
  const dirs: StudyDirs = {
    baseline: list(args.baseline)!,
    sweep: list(args.sweep),
    lengths: list(args.lengths),
    types: list(args.types),
    runs: list(args.runs),
  };
  const parsed = AnalysisParams.safeParse({ recoveryThreshold: args.threshold, alignmentTolerance: args.tolerance, fig2Epochs: args.fig2Epochs });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [flag, example] = issue.path[0] === 'recoveryThreshold' ? ['--threshold', 'a positive number, e.g. 1.01'] : issue.path[0] === 'fig2Epochs' ? ['--fig2-epochs', 'epochs >= 1, e.g. --fig2-epochs 5 15 25'] : ['--tolerance', 'a positive number, e.g. 0.01'];
    throw new UserError(`${flag}: ${issue.message}`, `${flag} must be ${example}`);
  }
  const params = parsed.data;
  const study = loadStudyFromDirs(dirs);
  const inputs = [
    ...study.arms.flatMap((arm) => arm.baselines.map((b) => ({ role: 'baseline', model: arm.model, seed: b.seed, file: b.full.file, ...infoBeside(b.full.file) }))),
    ...study.arms.flatMap((arm) => arm.runs.map((r) => ({ role: 'run', name: r.name, file: r.table.file, condition: r.condition, ...infoBeside(r.table.file) }))),
  ];
  const summary = await writeAnalysis(resolve(args.out), study, params, { inputs }, (line) => process.stderr.write(line + '\n'));
  const baselines = Object.entries(summary.baselines).map(([model, n]) => `${n} ${model}`).join(', ');
  process.stderr.write(`analysed ${summary.runs} runs against ${baselines} baseline(s) (${summary.problems} problems) -> ${resolve(args.out)}/report.html\n`);
  if (args.json) process.stdout.write(JSON.stringify({ out: resolve(args.out), ...summary }) + '\n');
  return summary;
}

const analyze: CliCommand = {
  command: 'analyze',
  describe: 'Effects, recovery, seed tests, findings, figures and report.html from baselines (one per seed) and perturbation runs (ours or the study CSVs)',
  builder: (yargs) =>
    yargs
      .option('baseline', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'baseline metrics CSV/Arrow or its folder; one per seed (seed from params.json or a seed{S} file name), each run compared with the baseline of its seed',
      })
      .option('sweep', { type: 'string', array: true, describe: 'single-epoch sweep folder(s): training_run{E}/ or training_res_run{E}.csv' })
      .option('lengths', { type: 'string', array: true, describe: 'variable-length folder(s): {type}_e{E}_l{L}/' })
      .option('types', { type: 'string', array: true, describe: 'type-comparison folder(s): image_noise/ label_shuffle/ uniform_target/ target_noise/' })
      .option('runs', { type: 'string', array: true, describe: 'run folders (ours, with params.json) or folders of study runs' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('threshold', { type: 'number', default: 1.01, describe: 'loss recovery: run test loss <= threshold × baseline' })
      .option('tolerance', { type: 'number', default: 0.01, describe: 'alignment recovery: |ρ_run − ρ_base| <= tolerance' })
      .option('fig2-epochs', { type: 'number', array: true, describe: "start epochs shown in Fig 2 (default the study's 5 15 25 35 45 70 98; all starts when none of them was run)" })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary as the last line of stdout' }),
  handler: async (argv) => {
    await analyzeCommand(argv as AnalyzeArgs);
  },
};

/** The `lw` subcommands this package provides; `@lw/pipeline` mounts them. */
export const commands: CliCommand[] = [analyze];
