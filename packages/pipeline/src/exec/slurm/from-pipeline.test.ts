import { describe, expect, it } from 'vitest';
import { parseSource } from '../../plan/source.js';
import { slurmConfigFromPipeline } from './from-pipeline.js';

const file = (text: string) => parseSource('study.yaml', text);

describe('slurmConfigFromPipeline', () => {
  it('reads the executor section and each stage\'s resources', () => {
    const config = slurmConfigFromPipeline(
      file(`name: s
executor:
  type: slurm
  resources: { partition: gpu, time: "1:00:00" }
  arrays: false
stages:
  data: { uses: exec, params: { cmd: "true" } }
  sweep:
    uses: exec
    resources: { gpus: 1, mem: 16G, arrayLimit: 4 }
`),
    );
    expect(config).toEqual({
      type: 'slurm',
      resources: { partition: 'gpu', time: '1:00:00' },
      arrays: false,
      poll: { minSeconds: 1, maxSeconds: 30, sharedFsGraceSeconds: 60 },
      stages: { sweep: { gpus: 1, mem: '16G', arrayLimit: 4 } },
    });
  });

  it('gives defaults when the section is missing or is the local executor\'s', () => {
    for (const text of ['name: s\nstages: {}\n', 'name: s\nexecutor: { type: local, jobs: 2 }\nstages: {}\n']) {
      expect(slurmConfigFromPipeline(file(text))).toMatchObject({ resources: {}, arrays: true, stages: {} });
    }
  });

  it.each([
    ['executor:\n  type: slurm\n  resources:\n    mem: 16 GB\n', /study\.yaml:5:10: executor\.resources\.mem/],
    ['executor:\n  type: slurm\n  pol: 3\n', /study\.yaml:4:8: executor\.pol: not a Slurm setting/],
    ['stages:\n  a:\n    uses: exec\n    resources:\n      time: 4h\n', /study\.yaml:6:13: stages\.a\.resources\.time/],
    ['stages:\n  a:\n    uses: exec\n    resources: { extra: ["--array=1-3"] }\n', /study\.yaml:5:26: stages\.a\.resources\.extra\.0: the executor sets this flag itself/],
  ])('names file:line:col of a bad value', (text, message) => {
    expect(() => slurmConfigFromPipeline(file(`name: s\n${text}`))).toThrow(message);
  });
});
