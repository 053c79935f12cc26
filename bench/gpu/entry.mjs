// One gpu-kit entry for every GPU benchmark, so one kit (node + Dawn, ~31 MiB) carries them all:
//   bash ../shared/tools/gpu-kit/prepare.sh bench/gpu/entry.mjs
//   run(bash .gpu-kit/run.sh epoch --mode both && bash .gpu-kit/run.sh model-step --batch 64, carry [".gpu-kit"])
// The first argument picks the benchmark; the rest go to it.
const which = process.argv[2];
if (which === 'epoch') await import('../epoch/run.ts');
else if (which === 'model-step') await import('../model-step/gpu.mjs');
else {
  console.error(`bench/gpu/entry.mjs: first argument must be 'epoch' or 'model-step', not ${JSON.stringify(which)}`);
  process.exit(2);
}
