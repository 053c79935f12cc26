import { z } from 'zod';

const posInt = z.number().int().positive();
const four = z.tuple([posInt, posInt, posInt, posInt]);

/**
 * A torchvision/timm ResNet (He et al. 2016; v1.5: a bottleneck's stride sits on its 3x3 conv).
 * `widths` are the stages' planes (64-128-256-512 in ResNet-18/50); a bottleneck stage outputs 4x its
 * planes. `stemWidth` is conv1's channels (64 in both libraries; timm 1.0.29 ignores its stem_width
 * argument without a deep stem, so a timm model at other widths keeps 64).
 */
export const ResnetConfig = z.object({
  kind: z.literal('resnet'),
  name: z.string(),
  block: z.enum(['basic', 'bottleneck']),
  /** Blocks per stage: [2,2,2,2] ResNet-18, [3,4,6,3] ResNet-50. */
  layers: four,
  widths: four,
  stemWidth: posInt,
  numClasses: posInt,
  /** The image side it is trained at; global average pooling lets it run at other sizes too. */
  imageSize: posInt,
});
export type ResnetConfig = z.infer<typeof ResnetConfig>;

/** Output channels of a block: 4x its planes for a bottleneck (torchvision's `expansion`). */
export const blockExpansion = (block: ResnetConfig['block']): number => (block === 'bottleneck' ? 4 : 1);

/** Width of the pooled features (the fc input, the RSA features): 512 for ResNet-18, 2048 for ResNet-50. */
export const resnetFeatureWidth = (c: ResnetConfig): number => c.widths[3] * blockExpansion(c.block);

/** The named ResNets; config.ts adds them to the model config names. */
export const resnetConfigs: Record<string, () => ResnetConfig> = {
  resnet18: () => ({ kind: 'resnet', name: 'resnet18', block: 'basic', layers: [2, 2, 2, 2], widths: [64, 128, 256, 512], stemWidth: 64, numClasses: 1000, imageSize: 224 }),
  resnet50: () => ({ kind: 'resnet', name: 'resnet50', block: 'bottleneck', layers: [3, 4, 6, 3], widths: [64, 128, 256, 512], stemWidth: 64, numClasses: 1000, imageSize: 224 }),
  // The toy's CNN beside tiny-vit: one basic block per stage at 16-128 channels, for 16-32 px images.
  'tiny-resnet': () => ({ kind: 'resnet', name: 'tiny-resnet', block: 'basic', layers: [1, 1, 1, 1], widths: [16, 32, 64, 128], stemWidth: 16, numClasses: 10, imageSize: 16 }),
};
