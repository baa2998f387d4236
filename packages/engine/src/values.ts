/** Three-valued logic: a condition is true, false, or unknown (a missing field, mismatched types). */
export type Truth = boolean | undefined;

/** A field that is not in the request. Equal to `nil`, unknown to every other comparison. */
export const MISSING: unique symbol = Symbol('missing');
export type Value = unknown;

export function and(a: Truth, b: Truth): Truth {
  if (a === false || b === false) return false;
  return a === true && b === true ? true : undefined;
}

export function or(a: Truth, b: Truth): Truth {
  if (a === true || b === true) return true;
  return a === false && b === false ? false : undefined;
}

export function not(a: Truth): Truth {
  return a === undefined ? undefined : !a;
}

/** Read a path from a JSON-like value; arrays take numeric segments. */
export function getPath(root: unknown, path: readonly string[], from = 0): Value {
  let v = root;
  for (let i = from; i < path.length; i++) {
    if (v === null || typeof v !== 'object') return MISSING;
    const key = path[i]!;
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(key)) return MISSING;
      v = v[Number(key)];
    } else {
      if (!Object.hasOwn(v, key)) return MISSING;
      v = (v as Record<string, unknown>)[key];
    }
    if (v === undefined) return MISSING;
  }
  return v;
}
