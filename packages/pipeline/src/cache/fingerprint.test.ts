import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codeFingerprint, FileHasher } from './fingerprint.js';

function pkg(root: string, name: string, deps: string[], code: string): string {
  const dir = join(root, name.replace('@lw/', ''));
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, dependencies: Object.fromEntries(deps.map((d) => [d, '0.1.0'])) }));
  writeFileSync(join(dir, 'dist', 'index.js'), code);
  writeFileSync(join(dir, 'dist', 'index.d.ts'), 'export {};');
  return dir;
}

describe('code fingerprints', () => {
  it('follow the package and its workspace dependencies, not unrelated packages or typings', () => {
    const root = mkdtempSync(join(tmpdir(), 'lw-fp-'));
    const ws = new Map([
      ['@lw/core', pkg(root, '@lw/core', [], 'core v1')],
      ['@lw/train', pkg(root, '@lw/train', ['@lw/core', 'zod'], 'train v1')],
      ['@lw/data', pkg(root, '@lw/data', ['@lw/core'], 'data v1')],
    ]);
    const fp = () => codeFingerprint(ws.get('@lw/train')!, ws, new FileHasher());
    const before = fp();
    writeFileSync(join(ws.get('@lw/data')!, 'dist', 'index.js'), 'data v2');
    writeFileSync(join(ws.get('@lw/train')!, 'dist', 'index.d.ts'), 'export declare const x: 1;');
    expect(fp()).toBe(before);
    writeFileSync(join(ws.get('@lw/core')!, 'dist', 'index.js'), 'core v2');
    const afterCore = fp();
    expect(afterCore).not.toBe(before);
    writeFileSync(join(ws.get('@lw/train')!, 'dist', 'extra.js'), 'new module');
    expect(fp()).not.toBe(afterCore);
  });

  it('the size+mtime fast path skips reading unchanged files and notices changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-fh-'));
    const file = join(dir, 'a.bin');
    writeFileSync(file, 'hello');
    const memo = join(dir, 'memo.json');
    const h1 = new FileHasher(memo);
    expect(h1.file(file)).toBe(createHash('sha256').update('hello').digest('hex'));
    h1.save();
    // Same size and mtime: the memo answers (a changed byte is not seen, which is the trade-off).
    const t = new Date(Date.now() - 10_000);
    utimesSync(file, t, t);
    const h2 = new FileHasher(memo);
    expect(h2.file(file)).toBe(createHash('sha256').update('hello').digest('hex'));
    h2.save();
    writeFileSync(file, 'jello');
    utimesSync(file, t, t);
    expect(new FileHasher(memo).file(file)).toBe(createHash('sha256').update('hello').digest('hex'));
    writeFileSync(file, 'jello!');
    expect(new FileHasher(memo).file(file)).toBe(createHash('sha256').update('jello!').digest('hex'));
  });
});
