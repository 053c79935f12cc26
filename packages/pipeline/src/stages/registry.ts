import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError, type StageDef } from '@lw/core';
import { stages as pipelineStages } from './stages.js';

/**
 * The stage registry: every package's `stages`, the built-in `exec`, and stage modules named in
 * `LW_STAGES` (a `:`-separated list of JS files exporting `stages`; how users add their own stage
 * packages, and how tests add test-only stages). The planner knows stages only through this.
 */
export interface RegisteredStage {
  def: StageDef;
  /** Directory of the package that implements it (its `dist/` enters the code fingerprint). */
  packageDir: string;
  /**
   * For `exec` only: the built files that decide what an exec task produces (the stage module,
   * the task runner and the cache entry format), fingerprinted instead of the whole package, so
   * that editing the CLI or the Slurm executor does not rerun every user command.
   */
  codeFiles?: string[];
}

export type Registry = Map<string, RegisteredStage>;

/** The workspace packages that provide stages (`stages`) and `lw` commands (`commands`), in the order `lw --help` lists them. */
export const stagePackages = ['@lw/data', '@lw/models', '@lw/eval', '@lw/train', '@lw/analysis'];

/**
 * Loads the registry. Importing a package can be slow (tfjs), so with `uses` (the stage ids a
 * pipeline needs) only the packages those ids name are imported: by convention a stage id starts
 * with its package's short name (`train/behavior` is in @lw/train). An id that fits no package
 * makes it import everything, so "unknown stage" errors list every stage.
 */
export async function loadRegistry(uses?: string[], extraModules: string[] = envModules()): Promise<Registry> {
  const registry: Registry = new Map();
  const add = (def: StageDef, packageDir: string, codeFiles?: string[]) => {
    const prev = registry.get(def.id);
    if (prev) throw new Error(`stage id "${def.id}" is registered twice (${prev.packageDir} and ${packageDir})`);
    registry.set(def.id, { def, packageDir, codeFiles });
  };
  // The exec stage's code: the stage, how its cmd reaches the shell, and how a task runs and publishes.
  const execCode = ['./exec-stage.js', './shell-command.js', '../exec/task-runner.js', '../cache/cache.js', '../plan/key.js'].map((f) => fileURLToPath(new URL(f, import.meta.url)));
  for (const def of pipelineStages) add(def, packageDirOf(fileURLToPath(import.meta.url)), execCode);
  for (const file of extraModules) {
    const abs = resolve(file);
    if (!existsSync(abs)) throw new UserError(`LW_STAGES names ${file}, which does not exist`, 'list JS modules that export `stages`, separated by ":"');
    const mod = (await import(pathToFileURL(abs).href)) as { stages?: StageDef[] };
    if (!Array.isArray(mod.stages)) throw new UserError(`${file} (from LW_STAGES) does not export a \`stages\` array`);
    for (const def of mod.stages) add(def, packageDirOf(abs));
  }
  const missing = uses?.filter((id) => !registry.has(id));
  for (const name of missing === undefined ? stagePackages : packagesFor(missing)) {
    const mod = (await import(name)) as { stages?: StageDef[] };
    const dir = packageDirOf(fileURLToPath(import.meta.resolve(name)));
    for (const def of mod.stages ?? []) add(def, dir);
  }
  return registry;
}

function packagesFor(uses: string[]): string[] {
  const out = new Set<string>();
  for (const id of uses) {
    const pkg = `@lw/${id.split('/')[0]}`;
    if (!stagePackages.includes(pkg)) return stagePackages;
    out.add(pkg);
  }
  return [...out];
}

function envModules(): string[] {
  return (process.env.LW_STAGES ?? '').split(':').filter(Boolean);
}

/** The nearest directory above `file` holding a package.json. */
export function packageDirOf(file: string): string {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${file}`);
    dir = up;
  }
  return dir;
}
