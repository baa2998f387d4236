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
  return write(value, '$');
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

/** Sorted key order by the object's own key order: records of one shape are sorted once. */
const sortedKeys = new Map<string, string[]>();

function keysOf(obj: Record<string, unknown>): string[] {
  const own = Object.keys(obj);
  // The key list itself, unambiguously: a joined string would confuse {} with {"": …}, or keys containing the separator.
  const shape = JSON.stringify(own);
  let sorted = sortedKeys.get(shape);
  if (!sorted) {
    sorted = [...own].sort(compareUtf16);
    if (sortedKeys.size >= 1024) sortedKeys.clear();
    sortedKeys.set(shape, sorted);
  }
  return sorted;
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

/** Compare by UTF-16 code units, as RFC 8785 §3.2.3 requires (not by code points or locale). */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
