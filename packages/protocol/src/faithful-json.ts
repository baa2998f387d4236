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

/** Why the request cannot be decided on faithfully, naming the path at fault; undefined if it can. */
/** A key as lenient decoders compare them (Go's encoding/json, ASP.NET binding): compatibility-normalised, case-folded. */
export function foldKey(key: string): string {
  return key.normalize('NFKC').toUpperCase().toLowerCase();
}

/**
 * `foldedKeys`: also refuse an object with two keys that differ only in letter case or Unicode
 * form, which a lenient decoder on the other side could read either of (the MCP proxy's upstreams).
 */
export function unfaithfulJson(value: unknown, root = '$', options: { foldedKeys?: boolean } = {}): string | undefined {
  const stack: [unknown, string, number][] = [[value, root, 0]];
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v))
      return `${path} is a number too large to represent: refused, because it reads as Infinity`;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `${path} nests deeper than ${MAX_JSON_DEPTH} levels: refused`;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`, depth + 1]);
      continue;
    }
    if (Object.hasOwn(v, '__proto__'))
      return `${path}.__proto__ is a key named __proto__: refused, because the policy and the log would not see the object the tool gets`;
    const keys = Object.keys(v);
    if (options.foldedKeys && keys.length > 1) {
      const seen = new Map<string, string>();
      for (const k of keys) {
        const other = seen.get(foldKey(k));
        if (other !== undefined)
          return `${path} has keys '${other}' and '${k}', which differ only in letter case or Unicode form: refused, because the tool could read either`;
        seen.set(foldKey(k), k);
      }
    }
    for (const k of keys.reverse()) stack.push([(v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1]);
  }
  return undefined;
}
