/**
 * What every KMS signer shares: the public key is read from the KMS once, when the daemon starts
 * or applies, and each signature the KMS returns is checked against it before it goes into the log,
 * so a KMS answering with another key (a misconfigured alias, a rotated version) is caught at once
 * rather than at the next `audit verify`.
 */
import { createPublicKey } from 'node:crypto';
import { ecdsaHash, verifySignature, type SignatureType, type Signer } from '@faramesh/audit';

export function kmsSigner(
  name: string,
  type: SignatureType,
  publicKey: Uint8Array,
  via: string,
  sign: (message: Uint8Array) => Promise<Uint8Array>,
): Signer & { via: string } {
  const signer = {
    name,
    type,
    publicKey,
    via,
    async sign(message: Uint8Array): Promise<Uint8Array> {
      const signature = await sign(message);
      if (!verifySignature(signer, message, signature)) throw new Error(`${via} returned a signature its public key does not verify`);
      return signature;
    },
  };
  return signer;
}

/** An ECDSA public key (PEM or SPKI DER) as the log pins it, with the digest it signs. */
export function ecdsaPublicKey(key: string | Uint8Array): { spki: Buffer; hash: 'sha256' | 'sha384' } {
  const k = typeof key === 'string' ? createPublicKey(key) : createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' });
  if (k.asymmetricKeyType !== 'ec') throw new Error(`the key is ${k.asymmetricKeyType}, not ECDSA (P-256 or P-384)`);
  return { spki: k.export({ format: 'der', type: 'spki' }), hash: ecdsaHash(k) };
}
