/**
 * Azure Key Vault secrets through the official clients. The daemon authenticates as a service
 * principal (`tenant_id`, `client_id`, `client_secret`) or through Azure's default chain (workload
 * or managed identity, AZURE_* variables); `authority_host` points at a sovereign or private
 * Entra endpoint. A credential's `path` is a secret name, optionally with a version
 * (`db-password/3f2a…`). The clients are loaded on first use.
 */
import { deadline } from '../outbound/deadline.js';
import { azureReplyCap } from '../outbound/sdk-reply-cap.js';
import type { ProviderFields } from './provider-fields.js';
import { secretValue, type Secret } from './secret-value.js';

export interface AzureOptions {
  vault_url: string;
  tenant_id?: string;
  client_id?: string;
  client_secret?: string;
  authority_host?: string;
}

export function azureOptions(f: ProviderFields, env: NodeJS.ProcessEnv): AzureOptions {
  const o: AzureOptions = { vault_url: f.need('vault_url') };
  for (const k of ['tenant_id', 'client_id', 'client_secret', 'authority_host'] as const) {
    const v = f.str(k);
    if (v) o[k] = v;
  }
  o.authority_host ??= env.AZURE_AUTHORITY_HOST;
  if (!o.authority_host) delete o.authority_host;
  return o;
}

/** Azure's own vault domains; the client checks a bearer challenge against them, and not elsewhere (a private endpoint). */
const VAULT_DOMAINS = ['.vault.azure.net', '.vault.azure.cn', '.vault.usgovcloudapi.net', '.managedhsm.azure.net'];

type SecretClient = InstanceType<(typeof import('@azure/keyvault-secrets'))['SecretClient']>;
const clients = new Map<string, SecretClient>();

/**
 * How the daemon signs in to a vault (a service principal, or Azure's default chain), and the client
 * options every Key Vault client shares: no retries of its own, and the bearer challenge checked
 * against Azure's vault domains except on a private endpoint.
 */
export async function azureAccess(o: AzureOptions) {
  const identity = await import('@azure/identity');
  // Every reply read, the token's as the vault's, is bounded (see azureReplyCap).
  const additionalPolicies = [azureReplyCap('Azure')];
  const authority = {
    additionalPolicies,
    ...(o.authority_host ? { authorityHost: o.authority_host, disableInstanceDiscovery: true } : {}),
  };
  const credential =
    o.tenant_id && o.client_id && o.client_secret
      ? new identity.ClientSecretCredential(o.tenant_id, o.client_id, o.client_secret, authority)
      : new identity.DefaultAzureCredential(authority);
  const host = new URL(o.vault_url).hostname;
  return {
    credential,
    options: {
      disableChallengeResourceVerification: !VAULT_DOMAINS.some((d) => host.endsWith(d)),
      retryOptions: { maxRetries: 0 },
      additionalPolicies,
    },
  };
}

async function client(o: AzureOptions): Promise<SecretClient> {
  const key = JSON.stringify(o);
  let c = clients.get(key);
  if (c) return c;
  const [{ SecretClient }, access] = await Promise.all([import('@azure/keyvault-secrets'), azureAccess(o)]);
  c = new SecretClient(o.vault_url, access.credential, access.options);
  clients.set(key, c);
  return c;
}

export async function azureSecret(o: AzureOptions, path: string, ttl_s: number, timeoutMs: number): Promise<Secret> {
  const [name, version] = path.split('/');
  if (!name || !/^[0-9A-Za-z-]{1,127}$/.test(name)) throw new Error(`'${path}' is not a Key Vault secret name`);
  const got = await deadline(
    (await client(o)).getSecret(name, { ...(version ? { version } : {}), abortSignal: AbortSignal.timeout(timeoutMs) }),
    timeoutMs,
    'Key Vault',
  );
  if (got.value === undefined) throw new Error(`secret ${name} has no value`);
  if (got.properties.enabled === false) throw new Error(`secret ${name} is disabled`);
  return { value: secretValue(got.value, path), ttl_s, issuance_id: `version:${got.properties.version ?? '?'}` };
}
