import { describe, expect, it } from 'vitest';
import { modelConfig, summarize } from './index.js';

// Published parameter counts: OpenAI CLIP ViT-L/14 427,616,513 and ViT-B/16 149,620,737
// (sum of the released state dicts); timm vit_base_patch16_224 86,567,656; method §1.2: 183,040.
describe('summarize', () => {
  it('counts the released models exactly', () => {
    expect(summarize(modelConfig('clip-vit-l14')).total).toBe(427_616_513);
    expect(summarize(modelConfig('clip-vit-b16')).total).toBe(149_620_737);
    expect(summarize(modelConfig('vit-b16')).total).toBe(86_567_656);
  });
  it('CLIP-HBA on ViT-L/14 trains 183,040 parameters', () => {
    const s = summarize(modelConfig('clip-vit-l14'), { dora: true });
    expect(s.trainable).toBe(183_040);
    expect(s.total).toBe(427_616_513 + 183_040);
  });
  it('tiny-clip keeps alpha/r = 0.5 with rank 8', () => {
    const c = modelConfig('tiny-clip');
    expect(c.dora.alpha / c.dora.rank).toBe(0.5);
    // 2 vision blocks (64 + 2·8·64) + 1 text block (same width)
    expect(summarize(c, { dora: true }).trainable).toBe(3 * (64 + 2 * 8 * 64));
  });
});
