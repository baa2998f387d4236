/** What providers return, and how a stored secret becomes the one string a call needs. */
export interface Secret {
  value: string;
  ttl_s: number;
  /** The provider's id for this issuance (a token accessor, a version). */
  issuance_id: string;
}

/** A JSON object's `value` (or `token`, `key`, or its only string field); a plain string as it is. */
export function secretValue(stored: string | Record<string, unknown>, path: string): string {
  let data: unknown = stored;
  if (typeof stored === 'string') {
    if (!stored.trimStart().startsWith('{')) return stored;
    try {
      data = JSON.parse(stored);
    } catch {
      return stored;
    }
  }
  const o = data as Record<string, unknown>;
  const strings = Object.values(o).filter((x): x is string => typeof x === 'string');
  const value =
    (['value', 'token', 'key'].map((k) => o[k]).find((x) => typeof x === 'string') as string | undefined) ??
    (strings.length === 1 ? strings[0] : undefined);
  if (value === undefined) throw new Error(`secret ${path} has no 'value' field (nor a single string field)`);
  return value;
}
