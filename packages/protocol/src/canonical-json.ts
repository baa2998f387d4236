/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Object members are sorted by their names' UTF-16 code units, no whitespace is emitted,
 * strings use the ECMAScript escaping of JSON.stringify and numbers the ECMAScript
 * shortest round-trip form — exactly what RFC 8785 §3.2 prescribes. Values JSON cannot
 * carry (NaN, Infinity, undefined, functions, bigint) are rejected rather than silently
 * dropped, because a hash over a lossy encoding would not identify its input.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

export function canonicalJson(value: unknown): string {
  return inCanonicalOrder(value) ? JSON.stringify(value) : write(value, '$');
}

/**
 * True when JSON.stringify already yields the canonical form: every object plain with its keys in
 * UTF-16 order, every value JSON can carry (no undefined, no toJSON to call). Records the log
 * builds, and records parsed back from canonical bytes, take this path — native and about twice
 * as fast as writing member by member.
 */
function inCanonicalOrder(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i])) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      const keys = Object.keys(value);
      for (let i = 0; i < keys.length; i++) {
        if (i > 0 && !(keys[i - 1]! < keys[i]!)) return false;
        if (!inCanonicalOrder((value as Record<string, unknown>)[keys[i]!])) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

// Strings are built with `+=`: V8 concatenates into ropes, cheaper than collecting parts.
function write(value: unknown, where: string): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${where}: ${value} is not a JSON number`);
      // ECMAScript Number-to-String is the serialisation RFC 8785 specifies; -0 becomes 0.
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + write(value[i], where);
        return out + ']';
      }
      return writeObject(value as Record<string, unknown>, where);
    }
    default:
      throw new CanonicalJsonError(`${where}: a ${typeof value} cannot be encoded as JSON`);
  }
}

/**
 * Own keys in UTF-16 order. Objects built in sorted order (as the log builds its records) are only
 * checked, not sorted; `Object.keys` returns a fresh array, so sorting it in place is safe. The
 * default sort compares UTF-16 code units, the order RFC 8785 §3.2.3 requires.
 */
function keysOf(obj: Record<string, unknown>): string[] {
  const keys = Object.keys(obj);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
}

function writeObject(obj: Record<string, unknown>, where: string): string {
  // Members whose value is undefined are absent, as with JSON.stringify.
  const keys = keysOf(obj);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + write(v, where === '$' ? key : where);
    first = false;
  }
  return out + '}';
}
