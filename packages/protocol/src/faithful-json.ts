/**
 * Whether a parsed request can be decided on faithfully: the object the policy judges, the log
 * hashes and an approver sees must be the one the tool gets. Three things break that, so the
 * channels refuse them before anything is decided, fetched or counted:
 *
 * - a key named `__proto__`. JSON.parse makes it an ordinary own key, but much of JavaScript does
 *   not: an assignment `out[key] = v` sets a prototype instead, and validators (zod among them) drop
 *   the key. The policy and the log would see the arguments without it, the tool with it;
 * - a number JSON.parse reads as Infinity (`1e400`): the canonical form the log hashes has none;
 * - nesting deeper than `MAX_JSON_DEPTH`: no policy reads that deep, and the recursive readers
 *   downstream (canonical JSON, redaction) would run out of stack.
 */

/** The deepest nesting a request may have (the request itself is depth 0). */
export const MAX_JSON_DEPTH = 64;

/** A key as lenient decoders compare them (Go's encoding/json, ASP.NET binding): compatibility-normalised, case-folded. */
export function foldKey(key: string): string {
  // ASCII is its own NFKC form, and upper-then-lower casing is lower casing there: the common case, fast.
  return ASCII.test(key) ? key.toLowerCase() : key.normalize('NFKC').toUpperCase().toLowerCase();
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * `foldedKeys`: also refuse an object with two keys that differ only in letter case or Unicode
 * form, which a lenient decoder on the other side could read either of (the MCP proxy's upstreams).
 */
export function unfaithfulJson(value: unknown, root = '$', options: { foldedKeys?: boolean } = {}): string | undefined {
  const fault = walk(value, 0, options.foldedKeys === true);
  if (!fault) return undefined;
  let path = root;
  for (let i = fault.at.length - 1; i >= 0; i--) {
    const step = fault.at[i]!;
    path += typeof step === 'number' ? `[${step}]` : `.${step}`;
  }
  return fault.why(path);
}

/** What is wrong, and where: the steps from the fault up to the root (a path is built only for a fault). */
interface Fault {
  at: (string | number)[];
  why: (path: string) => string;
}

const fault = (why: (path: string) => string): Fault => ({ at: [], why });

/** Depth-first, in document order; recursion is bounded by MAX_JSON_DEPTH. */
function walk(v: unknown, depth: number, folded: boolean): Fault | undefined {
  if (typeof v === 'number')
    return Number.isFinite(v) ? undefined : fault((p) => `${p} is a number too large to represent: refused, because it reads as Infinity`);
  if (v === null || typeof v !== 'object') return undefined;
  if (depth >= MAX_JSON_DEPTH) return fault((p) => `${p} nests deeper than ${MAX_JSON_DEPTH} levels: refused`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = walk(v[i], depth + 1, folded);
      if (f) return (f.at.push(i), f);
    }
    return undefined;
  }
  if (Object.hasOwn(v, '__proto__'))
    return fault(
      (p) => `${p}.__proto__ is a key named __proto__: refused, because the policy and the log would not see the object the tool gets`,
    );
  const keys = Object.keys(v);
  if (folded && keys.length > 1) {
    const seen = new Map<string, string>();
    for (const k of keys) {
      const key = foldKey(k);
      const other = seen.get(key);
      if (other !== undefined)
        return fault(
          (p) =>
            `${p} has keys '${other}' and '${k}', which differ only in letter case or Unicode form: refused, because the tool could read either`,
        );
      seen.set(key, k);
    }
  }
  for (const k of keys) {
    const f = walk((v as Record<string, unknown>)[k], depth + 1, folded);
    if (f) return (f.at.push(k), f);
  }
  return undefined;
}
