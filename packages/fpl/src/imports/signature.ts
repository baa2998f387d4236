import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { problem, type ImportProblem } from './problem.js';

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** A detached `.sig` file: `{ key_id, algorithm, value_b64, public_key_b64 }`. */
export interface DetachedSignature {
  keyId: string;
  algorithm: 'ed25519';
  value: Uint8Array;
  /** The key the signer claims; only a hint for matching — never trusted by itself. */
  publicKey?: Uint8Array;
}

/** Standard base64, padded or not. Returns undefined for anything else so bad input is never half-decoded. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 === 1) return undefined;
  if (t.includes('=') && t.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(t, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export function parseSignatureFile(bytes: Uint8Array, fileName: string): { signature?: DetachedSignature; error?: ImportProblem } {
  const malformed = (why: string) => ({
    error: problem(
      'import-malformed-signature',
      `${fileName} is malformed: ${why}`,
      'expected {"key_id": "…", "algorithm": "ed25519", "value_b64": "…", "public_key_b64": "…"}',
    ),
  });
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return malformed('not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return malformed('not a JSON object');
  const o = json as Record<string, unknown>;
  if (typeof o.key_id !== 'string' || o.key_id === '') return malformed("missing 'key_id'");
  if (typeof o.algorithm !== 'string') return malformed("missing 'algorithm'");
  if (o.algorithm.toLowerCase() !== 'ed25519') {
    return {
      error: problem('import-unsupported-algorithm', `${fileName} uses signature algorithm '${o.algorithm}'; only ed25519 is supported`),
    };
  }
  const value = typeof o.value_b64 === 'string' ? decodeBase64(o.value_b64) : undefined;
  if (!value || value.length !== ED25519_SIGNATURE_BYTES)
    return malformed(`'value_b64' must be the base64 of a ${ED25519_SIGNATURE_BYTES}-byte ed25519 signature`);
  const signature: DetachedSignature = { keyId: o.key_id, algorithm: 'ed25519', value };
  if (o.public_key_b64 !== undefined) {
    const publicKey = typeof o.public_key_b64 === 'string' ? decodeBase64(o.public_key_b64) : undefined;
    if (!publicKey || publicKey.length !== ED25519_PUBLIC_KEY_BYTES)
      return malformed(`'public_key_b64' must be the base64 of a ${ED25519_PUBLIC_KEY_BYTES}-byte ed25519 public key`);
    signature.publicKey = publicKey;
  }
  return { signature };
}

/** Node wants a KeyObject; a raw ed25519 public key is the JWK `x` member. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

export function verifyEd25519(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, ed25519PublicKey(publicKey), signature);
  } catch {
    // A key Node refuses (not a curve point) verifies nothing.
    return false;
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}
