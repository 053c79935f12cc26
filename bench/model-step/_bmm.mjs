import { initBackend, tf } from '@lw/models';
await initBackend({ backend: 'wasm' });
const shapes = [[132,1,32,8],[132,1,8,32],[32,1,32,17],[32,1,17,32],[32,17,17,32],[32,17,32,17],[132,8,8,32],[132,8,32,8],[32,32,17,17],[132,32,8,8]];
for (const [G,M,K,N] of shapes) {
  const a = tf.randomNormal([G,M,K]), b = tf.randomNormal([G,K,N]);
  for (let i=0;i<20;i++) tf.matMul(a,b).dispose();
  const n=300, t0=performance.now();
  for (let i=0;i<n;i++) tf.matMul(a,b).dispose();
  const us=(performance.now()-t0)/n*1000;
  console.log(`${[G,M,K,N].join('x')} macs/entry ${M*K*N}: ${us.toFixed(1)} us`);
}
