import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { sharedDir } from '@lw/core';
import { chromium as chromiumPart, chromiumPath, needs } from '@lw/core/testing/system-parts';
import { analyzeCommand } from './commands.js';

const CHROMIUM = chromiumPath();

describe.skipIf(!needs(chromiumPart))('report.html in headless Chromium', () => {
  it('opens without console errors and shows every figure', async () => {
    const R = join(sharedDir(), 'data', 'reference-results');
    const out = mkdtempSync(join(tmpdir(), 'lw-analysis-report-'));
    await analyzeCommand({
      baseline: join(R, 'baseline_clip_results_seed1.csv'),
      sweep: [join(R, 'single_sweep')],
      lengths: [join(R, 'lengths')],
      types: [join(R, 'types')],
      out,
    });
    const figureCount = readdirSync(out).filter((f) => f.endsWith('.png')).length;
    expect(figureCount).toBe(6);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      // A self-contained report makes no requests beyond its own file and inline data.
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) errors.push(`request to ${r.url()}`);
      });
      await page.goto(pathToFileURL(join(out, 'report.html')).href, { waitUntil: 'load' });

      const figures = page.locator('figure img');
      expect(await figures.count()).toBe(figureCount);
      for (let i = 0; i < figureCount; i++) {
        const img = figures.nth(i);
        await img.scrollIntoViewIfNeeded();
        expect(await img.isVisible()).toBe(true);
        const box = await img.boundingBox();
        expect(box!.width).toBeGreaterThan(100);
        expect(box!.height).toBeGreaterThan(100);
        // Decoded, not a broken-image icon.
        expect(await img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)).toBe(true);
      }
      expect(await page.locator('#table-effects tbody tr').count()).toBe(8);
      expect(await page.locator('#table-recovery tbody tr').count()).toBe(8);
      const shot = join(out, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
