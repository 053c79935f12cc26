import { initBackend, tf } from '@lw/models';
await initBackend({ backend: 'wasm' });
const shapes = [[16,64,64,64],[16,32,64,32],[16,128,64,128],[16,64,32,64],[8,257,64,257]];
for (const [G,M,K,N] of shapes) {
  const a = tf.randomNormal([G,M,K]), b = tf.randomNormal([G,K,N]);
  for (let i=0;i<5;i++) tf.matMul(a,b).dispose();
  const n=40, t0=performance.now();
  for (let i=0;i<n;i++) tf.matMul(a,b).dispose();
  const us=(performance.now()-t0)/n*1000;
  console.log(`${[G,M,K,N].join('x')} macs/entry ${M*K*N}: ${us.toFixed(1)} us, ${(2*G*M*K*N/us/1e3).toFixed(1)} GFLOP/s`);
}
