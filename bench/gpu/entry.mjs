// One gpu-kit entry for every GPU benchmark, so one kit (node + Dawn, ~31 MiB) carries them all:
//   bash ../shared/tools/gpu-kit/prepare.sh bench/gpu/entry.mjs
//   run(bash .gpu-kit/run.sh epoch --mode both && bash .gpu-kit/run.sh model-step --batch 64, carry [".gpu-kit"])
// The first argument picks the benchmark; the rest go to it.
const which = process.argv[2];
if (which === 'epoch') await import('../epoch/run.ts');
else if (which === 'model-step') await import('../model-step/gpu.mjs');
else if (which === 'parity') {
  // The webgpu parity cases on this adapter, every fused-attention case included (LW_PARITY_ONLY=regex picks some).
  process.env.LW_PARITY_ATTENTION ??= '1';
  const { webgpuParity } = await import('../../packages/models/dist/webgpu/parity.js');
  const r = await webgpuParity();
  for (const c of r.checks) console.log(`${c.relErr < 1e-4 ? 'ok  ' : 'FAIL'} ${c.name.padEnd(40)} relErr ${c.relErr.toExponential(2)} maxAbs ${c.maxAbsDiff.toExponential(2)} lw kernels ${JSON.stringify(c.lwKernels)}`);
  console.log(`parity on ${r.adapter}: ${r.checks.length} cases`);
}
else {
  console.error(`bench/gpu/entry.mjs: first argument must be 'epoch', 'model-step' or 'parity', not ${JSON.stringify(which)}`);
  process.exit(2);
}
