/**
 * Entry of the `lw` bin. A no-op rerun (`lw run FILE` with nothing changed) is answered from the
 * run stamp with Node built-ins only (noop-stamp.ts); everything else loads the full CLI.
 */
import { tryNoopRun } from './cache/noop-stamp.js';

if (!tryNoopRun(process.argv.slice(2))) await import('./cli/cli-main.js');
