import { foldKey } from '@faramesh/protocol';

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

/**
 * A path that runs into a value of another shape than it reads: `payment.amount` when `payment` is a
 * list or a string, `items.0.amount` when `items` is one object instead of a list. The field is not
 * missing (the model sent something there, and a tool that takes either shape acts on it), so it
 * compares with nothing, `nil` included: a condition reading it is unknown because of a type, and a
 * deny or defer reading it applies.
 */
export const MISSHAPEN: unique symbol = Symbol('misshapen');

/**
 * Read a path from a JSON-like value; arrays take numeric segments. A null field reads as a missing
 * one (docs/engine.md): `user != "root"` must not hold for `user: null`, which a tool may well take
 * as its default, any more than for no `user` at all. Only the `nil` literal is null.
 */
export function getPath(root: unknown, path: readonly string[], from = 0): Value {
  let v = root;
  for (let i = from; i < path.length; i++) {
    if (v === MISSING || v === null || v === undefined) return MISSING;
    if (typeof v !== 'object') return MISSHAPEN;
    const key = path[i]!;
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(key)) return MISSHAPEN;
      v = v[Number(key)];
    } else {
      if (!Object.hasOwn(v, key)) return /^\d+$/.test(key) || spelledOtherwise(v, key) ? MISSHAPEN : MISSING;
      v = (v as Record<string, unknown>)[key];
    }
    if (v === undefined) return MISSING;
  }
  return v === null ? MISSING : v;
}

/** Each object's keys as a lenient decoder compares them, made on the first key found missing in it. */
const foldedKeys = new WeakMap<object, Set<string>>();

/**
 * Whether `obj` holds `key` under another spelling (`Amount` or `AMOUNT` for `amount`, another Unicode
 * form): a lenient decoder (Go's encoding/json) hands that value to the tool as the field, so the
 * field is there, read as misshapen rather than missing, and a deny or defer that reads it applies.
 */
function spelledOtherwise(obj: object, key: string): boolean {
  let keys = foldedKeys.get(obj);
  if (!keys) {
    keys = new Set(Object.keys(obj).map(foldKey));
    foldedKeys.set(obj, keys);
  }
  return keys.has(foldKey(key));
}
