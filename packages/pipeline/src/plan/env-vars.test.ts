import { describe, expect, it } from 'vitest';
import { resolveEnvVars } from './env-vars.js';

const at = (name: string) => `p.yaml:${name === 'images' ? 3 : 4}:3`;

describe('resolveEnvVars', () => {
  it('reads environment variables, falls back to defaults and keeps plain values', () => {
    const vars = resolveEnvVars(
      { seed: 1, images: { env: 'THINGS_IMAGES' }, backend: { env: 'LW_TEST_BACKEND', default: 'auto' } },
      { THINGS_IMAGES: '/data/things/images' },
      at,
    );
    expect(vars).toEqual({ seed: 1, images: '/data/things/images', backend: 'auto' });
  });

  it('lists every missing variable with its place, environment name and --set form', () => {
    let message = '';
    try {
      resolveEnvVars({ images: { env: 'THINGS_IMAGES', description: 'THINGS object_images folder' }, clip: { env: 'CLIP_DIR' } }, {}, at);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('2 required variables are not set');
    expect(message).toContain('p.yaml:3:3: variable "images" (THINGS object_images folder) is not set: export THINGS_IMAGES=... or pass --set images=...');
    expect(message).toContain('p.yaml:4:3: variable "clip" is not set: export CLIP_DIR=... or pass --set clip=...');
  });
});
