/**
 * Which key signs the log's checkpoints. By default the stack's own ed25519 key (under
 * `.faramesh/keys/`); with a signing provider declared (`aws-kms`, `gcp-kms`, `azure-key-vault`,
 * `vault-transit`, or `kms` with a `backend`), a KMS that keeps the private key off the host, so a root compromise of
 * the daemon's machine cannot forge a checkpoint. At most one signing provider per stack. A KMS
 * that cannot be reached when the daemon starts halts it (fail closed); at `apply`, the new policy
 * is refused and the running one stays.
 */
import { keyId, type Signer } from '@faramesh/audit';
import { canonicalJson } from '@faramesh/protocol';
import type { PolicyIR, ProviderIR } from '@faramesh/fpl/runtime';
import { providerFields, type ProviderFields } from '../credentials/provider-fields.js';
import { awsKmsSigner } from './aws-kms.js';
import { gcpKmsSigner } from './gcp-kms.js';
import { azureKeyVaultSigner } from './azure-key-vault.js';
import { vaultTransitSigner } from './vault-transit.js';

type Make = (name: string, f: ProviderFields, env: NodeJS.ProcessEnv) => Promise<Signer & { via: string }>;
const SIGNERS: Readonly<Record<string, Make>> = {
  'aws-kms': awsKmsSigner,
  'gcp-kms': gcpKmsSigner,
  'azure-key-vault': azureKeyVaultSigner,
  'vault-transit': vaultTransitSigner,
};
/** `provider { type = "kms" backend = "…" }`, the generic spelling. */
const BACKENDS: Readonly<Record<string, string>> = {
  aws: 'aws-kms',
  gcp: 'gcp-kms',
  azure: 'azure-key-vault',
  vault: 'vault-transit',
  // The provider types' own names, as the reference guides write them (`backend = "aws-kms"`).
  'aws-kms': 'aws-kms',
  'gcp-kms': 'gcp-kms',
  'azure-key-vault': 'azure-key-vault',
  'azure-kv': 'azure-key-vault',
  'vault-transit': 'vault-transit',
};
const SIGNING_TYPES = new Set(['kms', 'aws-kms', 'gcp-kms', 'vault-transit', 'azure-key-vault', 'pkcs11']);

export interface ActiveSigner {
  signer: Signer;
  /** `local key`, or the KMS and key that sign. */
  via: string;
  /** The signing provider's name; none for the stack key. */
  provider?: string;
  /** What the signer was made from: an unchanged block at the next apply keeps it. */
  source: string;
}

/** The stack's signing provider, if it declares one; more than one is an error. */
export function signingProvider(ir: PolicyIR): ProviderIR | undefined {
  const found = ir.providers.filter((p) => SIGNING_TYPES.has(p.type));
  if (found.length > 1) throw new Error(`one signing provider per stack; this one declares ${found.map((p) => `"${p.name}"`).join(', ')}`);
  return found[0];
}

export const signingSource = (ir: PolicyIR): string => canonicalJson(signingProvider(ir) ?? null);

export async function checkpointSigner(ir: PolicyIR, env: NodeJS.ProcessEnv, stackKey: Signer): Promise<ActiveSigner> {
  const p = signingProvider(ir);
  const source = canonicalJson(p ?? null);
  if (!p) return { signer: stackKey, via: 'local key', source };
  const f = providerFields(p, env);
  const type = p.type === 'kms' ? BACKENDS[f.str('backend') ?? ''] : p.type;
  const make = type ? SIGNERS[type] : undefined;
  if (!make)
    throw new Error(
      p.type === 'kms'
        ? `signing provider "${p.name}": backend ${JSON.stringify(f.str('backend') ?? null)} is not one of ${Object.keys(BACKENDS).join(', ')}`
        : `signing provider "${p.name}" (${p.type}) is not available in this build: use type aws-kms, gcp-kms, azure-key-vault or vault-transit`,
    );
  try {
    const signer = await make(stackKey.name, f, env);
    return { signer, via: signer.via, provider: p.name, source };
  } catch (e) {
    throw new Error(`signing provider "${p.name}": ${(e as Error).message}`);
  }
}

/** How `status` shows the signer: where the key lives and its C2SP key id. */
export function describeSigner(a: ActiveSigner): { via: string; type: string; key_id: string; provider?: string } {
  return {
    via: a.via,
    type: a.signer.type,
    key_id: Buffer.from(keyId(a.signer)).toString('hex'),
    ...(a.provider ? { provider: a.provider } : {}),
  };
}
