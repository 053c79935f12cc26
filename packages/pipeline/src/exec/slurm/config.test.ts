import { describe, expect, it } from 'vitest';
import { SlurmExecutorConfigSchema, SlurmResourcesSchema, stageResources } from './config.js';

describe('SlurmResourcesSchema', () => {
  it.each([
    { time: '4:00:00' }, { time: '2-12' }, { time: '1-00:30:00' }, { time: 30 }, { time: 'UNLIMITED' },
    { mem: '16G' }, { mem: 4000 }, { gpus: 1 }, { gpus: 'a100:2' }, { gpuFlag: 'gpus' },
    { partition: 'gpu,cpu', account: 'lab-1', qos: 'normal' }, { extra: ['--constraint=a100', '--exclusive', '-Ca100'] },
  ])('accepts %o', (r) => {
    expect(SlurmResourcesSchema.safeParse(r).success).toBe(true);
  });

  it.each([
    [{ time: '4h' }], [{ time: '1:2:3:4' }], [{ mem: '16 GB' }], [{ mem: -1 }], [{ cpus: 0 }], [{ cpus: 1.5 }],
    [{ gpus: 'two' }], [{ partition: 'a b' }], [{ account: '' }], [{ extra: ['constraint=a100'] }],
    [{ extra: ['--dependency=afterok:1'] }], [{ extra: ['--array=1-3'] }], [{ extra: ['-o/tmp/x'] }],
    [{ extra: ['--output=/tmp/x'] }], [{ partiton: 'typo' }],
  ])('rejects %o', (r) => {
    expect(SlurmResourcesSchema.safeParse(r).success).toBe(false);
  });
});

describe('stageResources', () => {
  const config = SlurmExecutorConfigSchema.parse({
    type: 'slurm',
    resources: { partition: 'cpu', time: '1:00:00', extra: ['--exclusive'] },
    stages: { sweep: { partition: 'gpu', gpus: 1, extra: ['--constraint=a100'] } },
  });

  it('lays a stage over the defaults and adds both extra lists', () => {
    expect(stageResources(config, 'sweep')).toEqual({
      partition: 'gpu', time: '1:00:00', gpus: 1, extra: ['--exclusive', '--constraint=a100'],
    });
    expect(stageResources(config, 'data')).toEqual({ partition: 'cpu', time: '1:00:00', extra: ['--exclusive'] });
  });

  it('fills defaults for a bare section', () => {
    expect(SlurmExecutorConfigSchema.parse({ type: 'slurm' })).toEqual({
      type: 'slurm', resources: {}, stages: {}, arrays: true, poll: { minSeconds: 1, maxSeconds: 30, sharedFsGraceSeconds: 60 },
    });
  });
});
