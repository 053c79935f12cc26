import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@lw/core';

/**
 * For tests: a temp project with a stage package of its own (`prog/dist/index.js` holding
 * `stageModule`, registered through LW_STAGES) and a pipeline file `p.yaml` named `name` with the
 * given `stages:` block. The caller restores LW_STAGES.
 */
export function pluginProject(prefix: string, stageModule: string, name: string, stages: string): { root: string; plugin: string; file: string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  symlinkSync(join(repoRoot(), 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'prog', 'dist'), { recursive: true });
  writeFileSync(join(root, 'prog', 'package.json'), JSON.stringify({ name: '@lwtest/prog', type: 'module' }));
  const plugin = join(root, 'prog', 'dist', 'index.js');
  writeFileSync(plugin, stageModule);
  process.env.LW_STAGES = plugin;
  const file = join(root, 'p.yaml');
  writeFileSync(file, `name: ${name}\nstages:\n${stages}\n`);
  return { root, plugin, file };
}
