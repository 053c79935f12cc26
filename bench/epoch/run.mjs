// Entry for `node bench/epoch/run.mjs` after `npm run build`: runs the TypeScript bench through tsx.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const ts = fileURLToPath(new URL('./run.ts', import.meta.url));
const r = spawnSync(process.execPath, ['--import', 'tsx', ts, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
