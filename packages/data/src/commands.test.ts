import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { commands, inspectCommand, toyCommand } from './commands.js';
import { stages } from './stages.js';

const tmp = mkdtempSync(join(tmpdir(), 'lw-data-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs a handler and returns what it printed on stdout. */
async function run(handler: (argv: never) => Promise<void>, argv: Record<string, unknown>): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out.push(String(s)); return true; });
  try { await handler(argv as never); } finally { spy.mockRestore(); }
  return out.join('');
}

describe('lw data commands', () => {
  it('registers every command and stage', () => {
    expect(commands.map((c) => c.command)).toEqual(['data toy', 'data things', 'data imagenet', 'data inspect <dir>']);
    expect(stages.map((s) => s.id)).toEqual(['data/toy', 'data/things', 'data/imagenet']);
  });

  it('data toy --json prints one JSON object as the last line', async () => {
    const out = join(tmp, 'toy');
    const text = await run(toyCommand.handler, { out, images: 148, size: 24, json: true });
    const last = JSON.parse(text.trim().split('\n').pop()!);
    expect(last.counts).toEqual({ train: 80, val: 20, test: 48 });
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  });

  it('data inspect summarises the set and writes a contact sheet beside it', async () => {
    const dir = join(tmp, 'toy');
    const r = JSON.parse((await run(inspectCommand.handler, { dir, json: true })).trim().split('\n').pop()!);
    expect(r.counts).toEqual({ train: 80, val: 20, test: 48 });
    expect(r.rdm).toMatchObject({ n: 48, pairs: 1128, symmetric: true, zeroDiagonal: true });
    expect(r.sampleIds.test).toEqual(['toy_test_000', 'toy_test_001', 'toy_test_002']);
    expect(r.contactSheet).toBe(join(tmp, 'toy.contact-sheet.png'));
    const meta = await sharp(r.contactSheet).metadata();
    expect([meta.width, meta.height]).toEqual([8 * 98 + 2, 6 * 98 + 2]);
    const text = await run(inspectCommand.handler, { dir, sheet: join(tmp, 'sheet.png') });
    expect(text).toMatch(/human RDM 48x48: off-diagonal .* symmetric, zero diagonal/);
  });
});
