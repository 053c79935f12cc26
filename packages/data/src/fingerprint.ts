import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { SourceFingerprint } from './manifest.js';

/** Content fingerprint of an input file, recorded in the manifest so a prepared set says what it came from. */
export async function fingerprintFile(path: string, name = basename(path)): Promise<SourceFingerprint> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { name, path: resolve(path), bytes: statSync(path).size, sha256: hash.digest('hex') };
}
