import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { repoRoot, type StageDef } from '@lw/core';

/**
 * The pipeline runs stages through the stage contract only (@lw/core's StageDef: lastCheckpoint,
 * work, resources, ctx.threads, ctx.gpus): it never reads a stage's params by name, and never sets
 * an environment variable another package reads. Both were how the pipeline once guessed at train
 * stages (`params.epochs`, LW_WASM_THREADS); these greps keep it from coming back.
 */
const root = repoRoot();

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'testing' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Code without comments and string literals (template strings whole), so help texts and docs may name params. */
function codeOnly(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, (m) => (m.startsWith('/') ? ' ' : "''"));
}

/** Every property name anywhere in a stage's params schema (nested blocks too). */
function paramNames(defs: StageDef[]): Set<string> {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    for (const [k, v] of Object.entries((n.properties as Record<string, unknown>) ?? {})) {
      names.add(k);
      walk(v);
    }
    for (const k of ['items', 'anyOf', 'oneOf', 'allOf', 'additionalProperties']) [n[k]].flat().forEach(walk);
  };
  for (const def of defs) walk(z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }));
  return names;
}

const pipelineFiles = sources(join(root, 'packages/pipeline/src'));

describe('package boundaries', () => {
  it('the pipeline package reads no train param by name', async () => {
    const { stages } = await import('@lw/train');
    const names = paramNames(stages as StageDef[]);
    expect([...names]).toEqual(expect.arrayContaining(['epochs', 'lr', 'batchSize', 'perturb', 'backend', 'seed']));
    const read = new RegExp(`params\\??\\.\\s*(${[...names].join('|')})\\b|params\\s*\\[`, 'g');
    const found = pipelineFiles.flatMap((f) => [...codeOnly(readFileSync(f, 'utf8')).matchAll(read)].map((m) => `${relative(root, f)}: ${m[0]}`));
    expect(found).toEqual([]);
  });

  it('the pipeline package sets no environment variable another package reads', () => {
    const others = ['core', 'data', 'eval', 'models', 'train', 'analysis'];
    const theirs = new Set(others.flatMap((p) => sources(join(root, 'packages', p, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/env(?:\.|\[['"])(LW_[A-Z0-9_]+)/g)].map((m) => m[1]))));
    expect(theirs.has('LW_BACKEND')).toBe(true);
    const found = pipelineFiles.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/LW_[A-Z0-9_]+/g)].filter((m) => theirs.has(m[0])).map((m) => `${relative(root, f)}: ${m[0]}`));
    expect(found).toEqual([]);
  });
});
