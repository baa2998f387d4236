/**
 * Module hooks (run on Node's loader thread) for FARAMESH_AUTOLOAD: an import of a framework module
 * named in TARGETS resolves to a small generated module that re-exports the real one, with the
 * tool-taking exports replaced by governed ones (see patches.ts).
 */
import { TARGETS } from './targets.js';

const SCHEME = 'faramesh-autoload:';
let patchesUrl = '';

interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: { parentURL?: string }) => Promise<Resolved>;
type NextLoad = (url: string, context: unknown) => Promise<{ format: string; source?: unknown; shortCircuit?: boolean }>;

export function initialize(data: { patches: string }): void {
  patchesUrl = data.patches;
}

export async function resolve(specifier: string, context: { parentURL?: string }, next: NextResolve): Promise<Resolved> {
  const real = await next(specifier, context);
  if (!Object.hasOwn(TARGETS, specifier) || context.parentURL?.startsWith(SCHEME)) return real;
  return { url: `${SCHEME}${specifier}#${encodeURIComponent(real.url)}`, format: 'module', shortCircuit: true };
}

export async function load(url: string, context: unknown, next: NextLoad) {
  if (!url.startsWith(SCHEME)) return next(url, context);
  const hash = url.indexOf('#');
  const specifier = url.slice(SCHEME.length, hash);
  const real = JSON.stringify(decodeURIComponent(url.slice(hash + 1)));
  const names = TARGETS[specifier] ?? [];
  const source = [
    `import * as real from ${real};`,
    `import { autoloadOverrides } from ${JSON.stringify(patchesUrl)};`,
    `export * from ${real};`,
    `const o = autoloadOverrides(${JSON.stringify(specifier)}, real);`,
    ...names.map((n) => `export const ${n} = o.${n};`),
  ].join('\n');
  return { format: 'module', source, shortCircuit: true };
}
