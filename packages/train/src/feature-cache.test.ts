import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '@lw/models';
import { FEATURES_FILE, FeatureCache } from './feature-cache.js';
import { writeTensorFile } from './tensor-file.js';
import { tempDir } from './testing/fixtures.js';

/** A cache of 7 images of [T=2, W=3] in shards of 3, 3 and 1, where image i holds the values 100 i + 0..5. */
function writeCache(dir: string): string[] {
  const ids = Array.from({ length: 7 }, (_, i) => `img${i}`);
  const shards = [ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)].map((shardIds, k) => {
    const values = Float32Array.from(shardIds.flatMap((id) => Array.from({ length: 6 }, (_, j) => 100 * Number(id.slice(3)) + j)));
    writeTensorFile(join(dir, `vision-train-${k}.safetensors`), new Map([['prefix', { dtype: 'F32', shape: [shardIds.length, 2, 3], data: values }]]));
    return { file: `vision-train-${k}.safetensors`, ids: shardIds };
  });
  writeTensorFile(join(dir, 'text.safetensors'), new Map([['prefix', { dtype: 'F32', shape: [1, 1, 2], data: new Float32Array(2) }]]));
  writeFileSync(join(dir, FEATURES_FILE), JSON.stringify({
    format: 'lw-features/1', dtype: 'float32', model: 'test', visionStart: 0, textStart: 0,
    visionShape: [2, 3], textShape: [1, 1, 2], splits: { train: { shards } }, text: 'text.safetensors',
  }));
  return ids;
}

describe('FeatureCache', () => {
  it('gathers rows across shards in the order asked, on the host and through device-resident shards alike', () => {
    const dir = tempDir('lw-feature-cache-');
    writeCache(dir);
    const cache = FeatureCache.open(dir);
    const ids = ['img6', 'img1', 'img4', 'img0', 'img5', 'img1']; // three shards, out of order, one repeat
    const expected = ids.flatMap((id) => Array.from({ length: 6 }, (_, j) => 100 * Number(id.slice(3)) + j));
    expect(Array.from(cache.gather(ids))).toEqual(expected);
    const onDevice = cache.prefixes(ids, true); // the webgpu path, run here on the test backend
    expect(onDevice.shape).toEqual([6, 2, 3]);
    expect(Array.from(onDevice.dataSync())).toEqual(expected);
    // ids already in shard order take the path without the final reordering gather
    expect(Array.from(cache.prefixes(['img0', 'img2', 'img3'], true).dataSync())).toEqual([0, 1, 2, 3, 4, 5, 200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 304, 305]);
    expect(() => cache.prefixes(['img9'], true)).toThrow(/has no image "img9"/);
    const before = tf.memory().numTensors;
    cache.dispose(); // frees the uploaded shards: 3 were used
    expect(tf.memory().numTensors).toBe(before - 3);
  });
});
