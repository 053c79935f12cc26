// Entry for the GPU machine (bundled by ../shared/tools/gpu-kit/prepare.sh): the ResNet of
// train/classify on tfjs-webgpu. (1) the torchvision fixture's eval/train logits and running
// statistics on webgpu; (2) training-mode gradients of every weight, webgpu vs cpu, and the running
// statistics after that step; (3) ResNet-50 fwd+bwd step time at 224 px (before the cpu half of (2)). Writes $OUT/resnet-webgpu.json.
//   bash ../shared/tools/gpu-kit/prepare.sh bench/resnet-step/gpu.ts .gpu-kit-b
//   run(bash .gpu-kit-b/run.sh --batch 16, carry [".gpu-kit-b"])
// Measured 2026-12-03 on the H200 (tfjs 4.22.0 webgpu, Dawn 0.6.2): fixture eval logits within 6e-8,
// train logits 8e-7, bn1 running statistics exact; tiny-resnet gradients vs cpu max relative error
// 3.1e-6 (layer4.0.conv2), running statistics 4e-7; ResNet-50 fwd+bwd at batch 16, 224 px:
// 2.64-3.04 s/step (6 images/s; first step 4.2 s), far too slow for ImageNet epochs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createResnet, initBackend, loadResnet, modelConfig, readSafetensors, resnetConfigFromWeights, tf, type Resnet } from '@lw/models';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : dflt; };
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!)); return m; };
const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < b.length; i++) s = Math.max(s, Math.abs(b[i]!)); return maxAbs(a, b) / Math.max(s, 1e-12); };

/** Cross-entropy of the training-mode logits against fixed labels; grads of every trainable weight. */
function lossFn(net: Resnet, images: tf.Tensor4D, labels: Int32Array, classes: number) {
  return () => {
    const logits = net.forward(images, { training: true }).logits;
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits, 1)), 1))) as tf.Scalar;
  };
}

async function gradsOn(backend: 'webgpu' | 'cpu') {
  await initBackend({ backend });
  const net = createResnet(modelConfig('tiny-resnet'), { numClasses: 8, seed: 4 });
  const images = tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
  const labels = Int32Array.from({ length: 8 }, (_, i) => i % 8);
  const vars = [...net.variables.values()];
  const { value, grads } = tf.variableGrads(lossFn(net, images, labels, 8), vars);
  const out = { loss: (await value.data())[0], grads: new Map<string, Float32Array>(), state: new Map<string, Float32Array>() };
  for (const [name, v] of net.variables) out.grads.set(name, (await grads[v.name]!.data()) as Float32Array);
  for (const [name, v] of net.state) out.state.set(name, (await v.data()) as Float32Array);
  net.dispose();
  return out;
}

async function main() {
  const report: Record<string, unknown> = {};
  const info = await initBackend({ backend: 'webgpu' });
  report.backend = info;
  // (1) the torchvision fixture
  const zoo = 'packages/models/fixtures/zoo/resnet18-tv';
  const file = readSafetensors(join(zoo, 'model.safetensors'));
  const config = resnetConfigFromWeights(file, { imageSize: 64 });
  file.close();
  const exp = readSafetensors(join(zoo, 'expected.safetensors'));
  const images = tf.tensor4d(exp.readFloat32('images'), exp.entries.get('images')!.shape as [number, number, number, number]);
  const net = loadResnet(config, zoo);
  const evalLogits = await net.forward(images).logits.data();
  const trainLogits = await net.forward(images, { training: true }).logits.data();
  report.fixture = {
    evalLogitsMaxAbs: maxAbs(evalLogits, exp.readFloat32('eval_logits')),
    trainLogitsMaxAbs: maxAbs(trainLogits, exp.readFloat32('train_logits')),
    bn1RunningMeanMaxAbs: exp.entries.has('bn1_running_mean') ? maxAbs(await net.state.get('bn1.running_mean')!.data(), exp.readFloat32('bn1_running_mean')) : null,
    bn1RunningVarMaxAbs: exp.entries.has('bn1_running_var') ? maxAbs(await net.state.get('bn1.running_var')!.data(), exp.readFloat32('bn1_running_var')) : null,
  };
  net.dispose();
  console.log('fixture', JSON.stringify(report.fixture));
  // webgpu work first: starting webgpu again after the cpu backend crashed Dawn (segfault)
  const gpu = await gradsOn('webgpu');
  // (3) ResNet-50 step time
  const batch = Number(arg('batch', '32'));
  const r50 = createResnet(modelConfig('resnet50'), { numClasses: 1000, seed: 1 });
  const x = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const labels = Int32Array.from({ length: batch }, (_, i) => i);
  const vars = [...r50.variables.values()];
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(lossFn(r50, x, labels, 1000), vars);
    await Promise.all([value.data(), ...Object.values(grads).map((g) => g.data())]);
    tf.dispose([value, ...Object.values(grads)]);
    times.push((performance.now() - t0) / 1000);
  }
  report.resnet50 = { batch, secondsPerStep: times, imagesPerSecond: batch / Math.min(...times.slice(1)) };
  console.log('resnet50', JSON.stringify(report.resnet50));
  // (2) gradients and running statistics after one training-mode step, webgpu vs cpu
  const cpu = await gradsOn('cpu');
  let worstGrad = { name: '', rel: 0 }, worstState = { name: '', rel: 0 };
  for (const [n, g] of cpu.grads) { const r = maxRel(gpu.grads.get(n)!, g); if (r > worstGrad.rel) worstGrad = { name: n, rel: r }; }
  for (const [n, s] of cpu.state) { const r = maxRel(gpu.state.get(n)!, s); if (r > worstState.rel) worstState = { name: n, rel: r }; }
  report.gradients = { lossWebgpu: gpu.loss, lossCpu: cpu.loss, weights: cpu.grads.size, worstGrad, worstState };
  console.log('gradients', JSON.stringify(report.gradients));
  if (process.env.OUT) writeFileSync(join(process.env.OUT, 'resnet-webgpu.json'), JSON.stringify(report, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
