/**
 * Node module hook, registered by tf.ts: lets Node load tfjs-core's ESM files (`dist/**.js`), which
 * use extensionless relative imports and sit in a package without "type": "module".
 * Only paths inside @tensorflow/tfjs-core/dist are touched.
 */
const TFJS_DIST = '/@tensorflow/tfjs-core/dist/';

interface Ctx { parentURL?: string }
type Next = (specifier: string, context: Ctx) => Promise<{ url: string; format?: string | null }>;

export async function resolve(specifier: string, context: Ctx, next: Next) {
  const fromTfjs = context.parentURL?.includes(TFJS_DIST);
  if (fromTfjs && specifier.startsWith('.') && !specifier.endsWith('.js')) return next(`${specifier}.js`, context);
  return next(specifier, context);
}

type NextLoad = (url: string, context: object) => Promise<{ format?: string | null; source?: unknown }>;

export async function load(url: string, context: object, next: NextLoad) {
  if (url.includes(TFJS_DIST) && !url.endsWith('.node.js')) {
    const r = await next(url, { ...context, format: 'module' });
    return { ...r, format: 'module' };
  }
  return next(url, context);
}
