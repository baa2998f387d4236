/**
 * Checkpoints signed by HashiCorp Vault's Transit engine. The key (`ed25519`, `ecdsa-p256` or
 * `ecdsa-p384`) is read once (`GET <mount>/keys/<key>`) and its latest version pinned; signing asks
 * for that version explicitly, so a rotation in Vault takes effect at the next `apply`, recorded in
 * the log, never silently. Ed25519 signs the note itself; ECDSA signs its digest (`prehashed`, ASN.1).
 */
import { createHash } from 'node:crypto';
import type { Signer } from '@faramesh/audit';
import type { ProviderFields } from '../credentials/provider-fields.js';
import { vaultCall } from '../credentials/vault.js';
import { ecdsaPublicKey, kmsSigner } from './kms-signer.js';

interface TransitKey {
  type?: string;
  latest_version?: number;
  keys?: Record<string, { public_key?: string }>;
}

export async function vaultTransitSigner(name: string, f: ProviderFields): Promise<Signer & { via: string }> {
  const addr = f.need('addr');
  const token = f.need('token');
  const namespace = f.str('namespace');
  const mount = (f.str('mount') ?? 'transit').replace(/^\/+|\/+$/g, '');
  const key = f.need('key');
  const v = { addr, ...(namespace ? { namespace } : {}) };
  const got = ((await vaultCall(v, token, f.timeoutMs, 'GET', `${mount}/keys/${encodeURIComponent(key)}`)) as { data?: TransitKey }).data;
  const version = got?.latest_version;
  const pub = version === undefined ? undefined : got?.keys?.[String(version)]?.public_key;
  if (!got || version === undefined || !pub) throw new Error(`vault transit key ${mount}/${key} has no public key (is it a signing key?)`);
  const via = `vault-transit ${mount}/${key} v${version}`;
  const sign = async (body: Record<string, unknown>): Promise<Uint8Array> => {
    const r = (await vaultCall(v, token, f.timeoutMs, 'POST', `${mount}/sign/${encodeURIComponent(key)}`, {
      ...body,
      key_version: version,
    })) as { data?: { signature?: string } };
    const m = /^vault:v(\d+):([A-Za-z0-9+/=]+)$/.exec(r.data?.signature ?? '');
    if (!m || Number(m[1]) !== version) throw new Error(`${via}: an unexpected signature '${(r.data?.signature ?? '').slice(0, 40)}'`);
    return Buffer.from(m[2]!, 'base64');
  };
  if (got.type === 'ed25519') {
    const raw = Buffer.from(pub, 'base64');
    if (raw.length !== 32) throw new Error(`${via}: an ed25519 public key is 32 bytes`);
    return kmsSigner(name, 'ed25519', raw, via, (message) => sign({ input: Buffer.from(message).toString('base64') }));
  }
  if (got.type !== 'ecdsa-p256' && got.type !== 'ecdsa-p384')
    throw new Error(`${via} is a ${got.type ?? '?'} key; checkpoints need ed25519, ecdsa-p256 or ecdsa-p384`);
  const { spki, hash } = ecdsaPublicKey(pub);
  return kmsSigner(name, 'ecdsa', spki, via, (message) =>
    sign({
      input: createHash(hash).update(message).digest('base64'),
      prehashed: true,
      hash_algorithm: hash === 'sha256' ? 'sha2-256' : 'sha2-384',
      marshaling_algorithm: 'asn1',
    }),
  );
}
