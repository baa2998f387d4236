/**
 * `node --import @faramesh/sdk/autoload`: with FARAMESH_AUTOLOAD=1 (the agent launcher sets both),
 * the frameworks this process imports come back governed, for ESM imports (module hooks) and
 * CommonJS requires alike. Without FARAMESH_AUTOLOAD=1 it does nothing.
 */
import Module, { register } from 'node:module';
import { autoloadOverrides } from './patches.js';
import { TARGETS } from './targets.js';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;

if (process.env.FARAMESH_AUTOLOAD === '1') {
  register('./hooks.js', import.meta.url, { data: { patches: new URL('./patches.js', import.meta.url).href } });
  const cjs = Module as unknown as { _load: Load };
  const load = cjs._load;
  const seen = new WeakMap<object, unknown>();
  cjs._load = function (this: unknown, request, parent, isMain) {
    const real = load.call(this, request, parent, isMain);
    if (!Object.hasOwn(TARGETS, request) || typeof real !== 'object' || real === null) return real;
    if (!seen.has(real)) {
      const overrides = autoloadOverrides(request, real as Record<string, unknown>);
      seen.set(real, Object.keys(overrides).length ? { ...real, ...overrides } : real);
    }
    return seen.get(real);
  };
}
