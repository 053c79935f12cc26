import { describe, expect, it } from 'vitest';
import { createClip, eotPositions, modelConfig, selectRows, tf } from './index.js';
import { lcg, maxRelErr } from './test_util.js';

// The towers run their last block at the head's token only (residualBlockAt); here against every block
// run whole and the token taken afterwards, through the towers' own public steps.
describe('last block at the head token only (CLS, EOT)', () => {
  const cfg = modelConfig('test-clip');
  const clip = createClip(cfg, { seed: 11 });
  const layers = cfg.vision.layers;

  it('ViT forward: the same CLS features, per-block CLS tokens and (asked for) whole last output', () => {
    const images = tf.tensor4d(lcg(5, 3 * cfg.vision.imageSize ** 2 * 3), [3, cfg.vision.imageSize, cfg.vision.imageSize, 3]);
    const vit = clip.visual;
    let x = vit.embed(images);
    const cls = (t: tf.Tensor3D) => tf.reshape(tf.slice(t, [0, 0, 0], [t.shape[0], 1, t.shape[2]]), [t.shape[0], t.shape[2]]) as tf.Tensor2D;
    const blockCls: tf.Tensor2D[] = [];
    for (let k = 0; k < layers; k++) blockCls.push(cls(x = vit.block(k, x)));
    const whole = vit.head(cls(x));

    const out = vit.forward(images, { blockCls: true });
    expect(out.cls.shape).toEqual(whole.shape);
    expect(maxRelErr(out.cls.dataSync(), whole.dataSync())).toBeLessThan(1e-5);
    expect(out.blockCls).toHaveLength(layers);
    out.blockCls!.forEach((t, k) => expect(maxRelErr(t.dataSync(), blockCls[k].dataSync()), `block ${k}`).toBeLessThan(1e-5));
    expect(maxRelErr(vit.forwardFrom(1, vit.blockInput(images, 1)).dataSync(), whole.dataSync())).toBeLessThan(1e-5);
    // Asking for the input of block `layers` (the last block's output) runs the last block whole.
    const withLast = vit.forward(images, { blockInputAt: layers });
    expect(withLast.blockInput!.shape).toEqual(x.shape);
    expect(maxRelErr(withLast.blockInput!.dataSync(), x.dataSync())).toBeLessThan(1e-5);
    expect(maxRelErr(withLast.cls.dataSync(), whole.dataSync())).toBeLessThan(1e-5);
  });

  it('text tower: the same features at the EOT tokens, from the start and from a prefix', () => {
    const ctx = cfg.text.contextLength, P = 4, tokens = new Int32Array(P * ctx);
    // EOT (the largest id) at positions 2..5: different query rows per prompt.
    for (let p = 0; p < P; p++) {
      tokens[p * ctx] = 1;
      for (let j = 1; j <= p + 1; j++) tokens[p * ctx + j] = 3 + p + j;
      tokens[p * ctx + p + 2] = cfg.text.vocabSize - 1;
    }
    const text = clip.text;
    let x = text.embed(tokens);
    for (let k = 0; k < cfg.text.layers; k++) x = text.block(k, x);
    const whole = text.head(selectRows(x, eotPositions(tokens, ctx)));
    expect(maxRelErr(text.encodeText(tokens).dataSync(), whole.dataSync())).toBeLessThan(1e-5);
    expect(maxRelErr(text.forwardTextFrom(1, text.textBlockInput(tokens, 1), tokens).dataSync(), whole.dataSync())).toBeLessThan(1e-5);
  });
});
