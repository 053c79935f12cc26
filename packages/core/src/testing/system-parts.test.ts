import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chromium, needs, optedIn, pytorch, torchMissing, type SystemPart } from './system-parts.js';

const absent: SystemPart = { name: 'Widget', require: 'LW_REQUIRE_WIDGET', howTo: 'apt-get install widget', missing: () => '/usr/bin/widget not found' };

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** A python3 stand-in that fails `import torch` the way a real one without torch does. */
function pythonWithoutTorch(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lw-parts-')), 'python3');
  writeFileSync(file, `#!/bin/sh
echo 'Traceback (most recent call last):' >&2
echo '  File "<string>", line 1, in <module>' >&2
echo "ModuleNotFoundError: No module named 'torch'" >&2
exit 1
`);
  chmodSync(file, 0o755);
  return file;
}

describe('needs', () => {
  it('skips a missing part with one line naming it, how to get it and the variable that makes it a failure', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(needs(absent, {})).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0][0]);
    expect(line).toBe('skipped: needs Widget (/usr/bin/widget not found): apt-get install widget, or set LW_REQUIRE_WIDGET=1 to fail instead');
  });

  it('fails when the LW_REQUIRE_* variable says the part must be there', () => {
    expect(() => needs(absent, { LW_REQUIRE_WIDGET: '1' })).toThrow('LW_REQUIRE_WIDGET is set, but this test needs Widget (/usr/bin/widget not found): apt-get install widget');
    // 0 and empty mean unset
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(needs(absent, { LW_REQUIRE_WIDGET: '0' })).toBe(false);
  });

  it('says nothing for a part that is there', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(needs({ ...absent, missing: () => undefined }, { LW_REQUIRE_WIDGET: '1' })).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('opt-in groups say which variable runs them', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(optedIn('LW_E2E', 'slow end-to-end test (minutes)', {})).toBe(false);
    expect(warn).toHaveBeenCalledWith('skipped: slow end-to-end test (minutes): set LW_E2E=1 to run it');
    expect(optedIn('LW_E2E', 'slow end-to-end test (minutes)', { LW_E2E: '1' })).toBe(true);
  });
});

describe('the probes', () => {
  it('PyTorch: the last line of the traceback, never the traceback', () => {
    const python = pythonWithoutTorch();
    expect(torchMissing(python)).toBe(`${python}: ModuleNotFoundError: No module named 'torch'`);
    expect(torchMissing('/nonexistent/python3')).toBe('/nonexistent/python3: not found');
    vi.stubEnv('LW_PYTHON', python);
    expect(pytorch.missing()).toBe(`${python}: ModuleNotFoundError: No module named 'torch'`);
  });

  it('Chromium: LW_CHROMIUM overrides /usr/bin/chromium', () => {
    vi.stubEnv('LW_CHROMIUM', '/nonexistent/chromium');
    expect(chromium.missing()).toBe('/nonexistent/chromium not found');
    vi.stubEnv('LW_CHROMIUM', process.execPath);
    expect(chromium.missing()).toBeUndefined();
  });
});
