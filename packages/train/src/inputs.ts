import { UserError, singleInput, type StageInput } from '@lw/core';

/** A `resume` input as the checkpoints dir and epoch it names (`baseline@epoch(N)`); undefined when absent. */
export function resumePoint(inputs: Record<string, StageInput>, stage: string): { dir: string; epoch: number } | undefined {
  const t = singleInput(inputs, 'resume', stage, true);
  if (!t) return undefined;
  if (t.epoch === undefined) throw new UserError(`${stage}: input "resume" (${t.stage} ${t.key}) must name one checkpoint`, 'write it as baseline@epoch(N) in the pipeline file');
  return { dir: `${t.dir}/checkpoints`, epoch: t.epoch };
}

