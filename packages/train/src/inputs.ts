import { UserError, type StageInput, type TaskResult } from '@lw/core';

/** The single task behind a named input (rejecting a list). */
export function one(input: StageInput, name: string): TaskResult {
  if (Array.isArray(input)) throw new UserError(`input "${name}" must be one task, got a list of ${input.length}`);
  return input;
}

/** A `resume` input as the checkpoints dir and epoch it names (`baseline@epoch(N)`). */
export function resumePoint(input: StageInput | undefined): { dir: string; epoch: number } | undefined {
  if (!input) return undefined;
  const t = one(input, 'resume');
  if (t.epoch === undefined) throw new UserError(`input "resume" (${t.stage} ${t.key}) must name one checkpoint`, 'write it as baseline@epoch(N) in the pipeline file');
  return { dir: `${t.dir}/checkpoints`, epoch: t.epoch };
}
