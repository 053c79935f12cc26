import { join } from 'node:path';
import { repoRoot, sha256 } from '@lw/core';
import type { Cache } from '../cache/cache.js';
import { codeFingerprint, FileHasher, filesFingerprint, workspacePackages } from '../cache/fingerprint.js';
import { applyOverrides } from './overrides.js';
import { plan, type Plan } from './plan.js';
import { loadRegistry, type RegisteredStage, type Registry } from '../stages/registry.js';
import { readSource } from './source.js';

/** Reads a pipeline file, applies `--set`, and plans it with real fingerprints (memoised in the cache). */
export interface Loaded {
  plan: Plan;
  registry: Registry;
  /** Files and dirs the fingerprints read, with their stats (see FileHasher.watched). */
  watched: Map<string, string>;
  /** sha256 of the pipeline file's text the plan was built from. */
  fileSha: string;
}

export async function loadPlan(file: string, sets: string[], cache: Cache, registry?: Registry): Promise<Loaded> {
  const source = readSource(file);
  const data = applyOverrides(source.data, sets);
  const reg = registry ?? (await loadRegistry(usedStageIds(data)));
  const hasher = new FileHasher(join(cache.dir, 'fingerprints.json'));
  const workspace = workspacePackages(repoRoot());
  const codeMemo = new Map<RegisteredStage, string>();
  const result = plan({ ...source, data }, reg, {
    code: (stage) => {
      let fp = codeMemo.get(stage);
      if (fp === undefined) {
        fp = stage.codeFiles ? filesFingerprint(stage.codeFiles, hasher) : codeFingerprint(stage.packageDir, workspace, hasher);
        codeMemo.set(stage, fp);
      }
      return fp;
    },
    file: (path) => hasher.path(path),
  });
  try {
    cache.ensureLayout();
    hasher.save();
  } catch {
    // A read-only cache (lw status on someone else's cache) only loses the fast path.
  }
  return { plan: result, registry: reg, watched: hasher.watched, fileSha: sha256(source.text) };
}

/** The `uses` values of a not-yet-validated file, to load only the packages it needs. */
function usedStageIds(data: unknown): string[] | undefined {
  const stages = (data as { stages?: unknown })?.stages;
  if (!stages || typeof stages !== 'object') return undefined;
  const ids = Object.values(stages).map((s) => (s as { uses?: unknown })?.uses);
  return ids.every((id): id is string => typeof id === 'string') ? ids : undefined;
}
