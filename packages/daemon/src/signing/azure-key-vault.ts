/**
 * Checkpoints signed by an Azure Key Vault key (EC P-256 or P-384, software or HSM-backed) through
 * the official client. The key version is read once (`key_version`, else the latest at start or
 * apply) and pinned: each checkpoint is one remote `sign` of its digest with that version (ES256 or
 * ES384), so a rotation in the vault takes effect at the next apply, recorded as `key_rotated`.
 * Key Vault answers with the raw r‖s form of JWS; the log keeps ASN.1 DER, as for the other KMSs.
 * Authentication is the vault credentials of the azure-kv provider (a service principal, or
 * Azure's default chain).
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { Signer } from '@faramesh/audit';
import { azureAccess, azureOptions } from '../credentials/azure.js';
import type { ProviderFields } from '../credentials/provider-fields.js';
import { deadline } from '../outbound/deadline.js';
import { ecdsaPublicKey, kmsSigner } from './kms-signer.js';

const ALGORITHM = { 'P-256': 'ES256', 'P-384': 'ES384' } as const;

export async function azureKeyVaultSigner(name: string, f: ProviderFields, env: NodeJS.ProcessEnv): Promise<Signer & { via: string }> {
  const o = azureOptions(f, env);
  const keyName = f.need('key_name');
  const version = f.str('key_version');
  const [{ KeyClient, CryptographyClient }, access] = await Promise.all([import('@azure/keyvault-keys'), azureAccess(o)]);
  // The abort signal does not reach Entra ID's token flow: the daemon keeps the deadline itself.
  const key = await deadline(
    new KeyClient(o.vault_url, access.credential, access.options).getKey(keyName, {
      ...(version ? { version } : {}),
      abortSignal: AbortSignal.timeout(f.timeoutMs),
    }),
    f.timeoutMs,
    'Key Vault',
  );
  const jwk = key.key;
  const crv = jwk?.crv;
  if (!jwk?.x || !jwk.y || !(jwk.kty === 'EC' || jwk.kty === 'EC-HSM') || (crv !== 'P-256' && crv !== 'P-384'))
    throw new Error(`${keyName} is a ${jwk?.kty ?? '?'} ${crv ?? ''} key; checkpoints need an EC P-256 or P-384 key`);
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv, x: Buffer.from(jwk.x).toString('base64url'), y: Buffer.from(jwk.y).toString('base64url') },
    format: 'jwk',
  });
  const { spki, hash } = ecdsaPublicKey(publicKey.export({ format: 'der', type: 'spki' }));
  // The versioned id: every signature comes from the version read here.
  const kid = key.id!;
  const crypto = new CryptographyClient(kid, access.credential, access.options);
  const via = `azure-key-vault ${kid}`;
  return kmsSigner(name, 'ecdsa', spki, via, async (message) => {
    const r = await deadline(
      crypto.sign(ALGORITHM[crv], createHash(hash).update(message).digest(), { abortSignal: AbortSignal.timeout(f.timeoutMs) }),
      f.timeoutMs,
      'Key Vault',
    );
    return derSignature(r.result);
  });
}

/** A raw r‖s ECDSA signature (JWS, Key Vault) as ASN.1 DER: SEQUENCE { INTEGER r, INTEGER s }. */
export function derSignature(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const int = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const v = Buffer.from(bytes.subarray(i));
    const body = v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  return Buffer.concat([Buffer.from(seq.length < 0x80 ? [0x30, seq.length] : [0x30, 0x81, seq.length]), seq]);
}
