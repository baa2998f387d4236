/**
 * Whether a record's stored bytes are its RFC 8785 form and nothing else: a duplicate key, an escape
 * or a number spelled another way would read differently to another parser than to ours. The log
 * only ever writes the canonical form, so anything else was written by someone else.
 */
import { canonicalJson } from '@faramesh/protocol';

/**
 * Are `payload`'s bytes exactly the RFC 8785 form of `record` (parsed from them)? RFC 8785 is
 * ECMAScript's serialization with keys sorted, so the native JSON.stringify of a record whose keys
 * are in order decides it at once; only otherwise (an integer-like key, which JavaScript lists
 * first, or a record that is not canonical) is the canonical form written out to compare.
 */
export function isCanonicalForm(record: Record<string, unknown>, payload: Buffer): boolean {
  const text = payload.toString('utf8');
  if (JSON.stringify(record) === text && keysInOrder(record)) return true;
  try {
    return canonicalJson(record) === text;
  } catch {
    // A value RFC 8785 cannot write (a number JSON cannot hold).
    return false;
  }
}

/** Whether every object within `v` lists its keys in UTF-16 order, as RFC 8785 writes them. */
function keysInOrder(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (Array.isArray(v)) return v.every(keysInOrder);
  let previous: string | undefined;
  for (const [k, value] of Object.entries(v)) {
    if (previous !== undefined && !(previous < k)) return false;
    if (!keysInOrder(value)) return false;
    previous = k;
  }
  return true;
}
