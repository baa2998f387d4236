import type { FileNode, TrustEntryNode } from '../syntax/ast.js';
import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Source, Span } from '../syntax/source.js';
import { decodeBase64, ED25519_PUBLIC_KEY_BYTES, ed25519PublicKey } from './signature.js';

/** A public key pinned in the policy's `trust { key "<registry>" ed25519:<base64> }` block. */
export interface TrustKey {
  /** The entry's subject: a registry id (`github.com/faramesh/faramesh-registry`) or a publisher key id. */
  registry: string;
  algorithm: 'ed25519';
  publicKey: Uint8Array;
  span: Span;
  source: Source;
}

const KEY_FORMS = 'key "github.com/faramesh/faramesh-registry" ed25519:<base64 public key>';

/**
 * The `key` entries of the file's top-level `trust` blocks. Malformed entries are reported as
 * `invalid-trust-key` (a schema error, not an import failure) and left out, so nothing they
 * would have allowed is trusted. Other trust entries (`spiffe_federated`, …) are not keys and are skipped.
 */
export function collectTrustKeys(file: FileNode, diagnostics: Diagnostics): TrustKey[] {
  const keys: TrustKey[] = [];
  for (const item of file.items) {
    if (item.kind !== 'Block' || item.type !== 'trust') continue;
    for (const entry of item.body) {
      if (entry.kind !== 'TrustEntry' || entry.keyword !== 'key') continue;
      const key = trustKey(entry, file.source, diagnostics);
      if (key) keys.push(key);
    }
  }
  return keys;
}

function trustKey(entry: TrustEntryNode, source: Source, diagnostics: Diagnostics): TrustKey | undefined {
  if (!entry.subject || entry.subject.value === '') {
    diagnostics.error(source, entry.span, 'invalid-trust-key', "trust key needs a quoted registry id after 'key'", KEY_FORMS);
    return undefined;
  }
  const parsed = parseKeyValue(entry.rest.text);
  if ('error' in parsed) {
    diagnostics.error(source, entry.rest.text ? entry.rest.span : entry.span, 'invalid-trust-key', parsed.error, KEY_FORMS);
    return undefined;
  }
  return { registry: entry.subject.value, algorithm: 'ed25519', publicKey: parsed.key, span: entry.span, source };
}

/** Accepts `ed25519:<b64>`, `= "<b64>"` and `= "ed25519:<b64>"`. */
export function parseKeyValue(text: string): { key: Uint8Array } | { error: string } {
  let t = text.trim();
  if (t.startsWith('=')) t = t.slice(1).trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1).trim();
  if (t === '') return { error: 'trust key has no public key' };
  const prefixed = /^([A-Za-z0-9_-]+):(.*)$/.exec(t);
  if (prefixed) {
    if (prefixed[1]!.toLowerCase() !== 'ed25519')
      return { error: `unsupported trust key algorithm '${prefixed[1]}'; only ed25519 is supported` };
    t = prefixed[2]!.trim();
  }
  const key = decodeBase64(t);
  if (!key) return { error: 'trust key is not valid base64' };
  if (key.length !== ED25519_PUBLIC_KEY_BYTES)
    return { error: `an ed25519 public key is ${ED25519_PUBLIC_KEY_BYTES} bytes, this one is ${key.length}` };
  try {
    ed25519PublicKey(key);
  } catch {
    return { error: 'trust key is not a valid ed25519 public key' };
  }
  return { key };
}
