/**
 * Checkpoints signed by Cloud KMS with an asymmetric signing key version (`EC_SIGN_P256_SHA256` or
 * `EC_SIGN_P384_SHA384`), through the official client in its REST mode. `key` names the key
 * version. The public key is read once; each checkpoint is one `asymmetricSign` of its digest, sent
 * with the digest's CRC32C and checked against the CRC32C of the signature that comes back, as
 * Google asks clients to.
 */
import { createHash } from 'node:crypto';
import { crc32c, type Signer } from '@faramesh/audit';
import { gcpClientOptions, gcpOptions, sameCrc } from '../credentials/gcp.js';
import type { ProviderFields } from '../credentials/provider-fields.js';
import { deadline } from '../outbound/deadline.js';
import { ecdsaPublicKey, kmsSigner } from './kms-signer.js';

const ALGORITHMS = ['EC_SIGN_P256_SHA256', 'EC_SIGN_P384_SHA384'];

export async function gcpKmsSigner(name: string, f: ProviderFields): Promise<Signer & { via: string }> {
  const { KeyManagementServiceClient } = await import('@google-cloud/kms');
  const key = f.need('key');
  if (!/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/[^/]+$/.test(key))
    throw new Error(`key must name a key version: projects/…/locations/…/keyRings/…/cryptoKeys/…/cryptoKeyVersions/N, not '${key}'`);
  const kms = new KeyManagementServiceClient(gcpClientOptions(gcpOptions(f)));
  const call = { timeout: f.timeoutMs, retry: null };
  // The client in REST mode sends no deadline with a request: the daemon keeps it (a stalled sign would hold every later checkpoint).
  const [pub] = await deadline(kms.getPublicKey({ name: key }, call), f.timeoutMs, 'Cloud KMS');
  const algorithm = String(pub.algorithm ?? '?');
  if (!ALGORITHMS.includes(algorithm) || !pub.pem) throw new Error(`${key} is ${algorithm}; checkpoints need ${ALGORITHMS.join(' or ')}`);
  const { spki, hash } = ecdsaPublicKey(pub.pem);
  const via = `gcp-kms ${key}`;
  return kmsSigner(name, 'ecdsa', spki, via, async (message) => {
    const digest = createHash(hash).update(message).digest();
    const [r] = await deadline(
      kms.asymmetricSign({ name: key, digest: { [hash]: digest }, digestCrc32c: { value: crc32c(digest) } }, call),
      f.timeoutMs,
      'Cloud KMS',
    );
    if (!r.signature) throw new Error(`${via} returned no signature`);
    const signature = typeof r.signature === 'string' ? Buffer.from(r.signature, 'base64') : Buffer.from(r.signature);
    if (r.verifiedDigestCrc32c !== true) throw new Error(`${via}: the digest was damaged on the way (CRC32C not verified)`);
    const sent = r.signatureCrc32c?.value;
    if (sent !== undefined && sent !== null && !sameCrc(sent, crc32c(signature)))
      throw new Error(`${via}: the signature was damaged on the way (CRC32C)`);
    return signature;
  });
}
