/**
 * GCP Secret Manager through the official client, in its REST mode (HTTP/1.1 + JSON over TLS).
 * Credentials come from Google's default chain (GOOGLE_APPLICATION_CREDENTIALS, the metadata
 * server); `endpoint` points at a private or regional endpoint. A credential's `path` is a secret
 * (`db-password`, the latest version), a version (`db-password/versions/3`), or a full resource
 * name (`projects/p/secrets/db-password/versions/latest`). The client is loaded on first use: a
 * stack without GCP never pays for it.
 */
import { crc32c } from '@faramesh/audit';
import type { ProviderFields } from './provider-fields.js';
import { deadline } from '../outbound/deadline.js';
import { cappedFetch } from '../outbound/sdk-reply-cap.js';
import { secretValue, type Secret } from './secret-value.js';

export interface GcpOptions {
  project?: string;
  /** `https://host[:port]` of the API, when not Google's public one. */
  endpoint?: string;
}

export function gcpOptions(f: ProviderFields): GcpOptions {
  const project = f.str('project');
  const endpoint = f.str('endpoint');
  return { ...(project ? { project } : {}), ...(endpoint ? { endpoint } : {}) };
}

/**
 * Client options shared by the GCP clients: REST transport, the endpoint, the project, and a bound
 * on each reply the client reads (API calls and token exchanges alike; see cappedFetch).
 */
export function gcpClientOptions(o: GcpOptions): Record<string, string | number | boolean | object> {
  const opts: Record<string, string | number | boolean | object> = {
    fallback: true,
    clientOptions: { transporterOptions: { fetchImplementation: cappedFetch('Google Cloud') } },
  };
  if (o.project) opts.projectId = o.project;
  if (o.endpoint) {
    const u = new URL(o.endpoint);
    if (u.protocol !== 'https:') throw new Error(`endpoint ${o.endpoint}: GCP APIs are reached over https`);
    opts.apiEndpoint = u.hostname.replace(/^\[|\]$/g, '');
    opts.port = Number(u.port || 443);
  }
  return opts;
}

type SecretManager = InstanceType<(typeof import('@google-cloud/secret-manager'))['SecretManagerServiceClient']>;
const clients = new Map<string, SecretManager>();

async function client(o: GcpOptions): Promise<SecretManager> {
  const key = JSON.stringify(o);
  let c = clients.get(key);
  if (!c) {
    const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
    clients.set(key, (c = new SecretManagerServiceClient(gcpClientOptions(o))));
  }
  return c;
}

export function gcpSecretName(project: string | undefined, path: string): string {
  if (path.startsWith('projects/')) return path;
  if (!project) throw new Error(`gcp-sm needs project to find the secret '${path}'`);
  const [secret, , version] = path.split('/');
  if (!secret || !/^[\w-]+$/.test(secret)) throw new Error(`'${path}' is not a secret name`);
  return `projects/${project}/secrets/${secret}/versions/${version ?? 'latest'}`;
}

export async function gcpSecret(o: GcpOptions, path: string, ttl_s: number, timeoutMs: number): Promise<Secret> {
  const name = gcpSecretName(o.project, path);
  const [res] = await deadline(
    (await client(o)).accessSecretVersion({ name }, { timeout: timeoutMs, retry: null }),
    timeoutMs,
    'Secret Manager',
  );
  const data = res.payload?.data;
  if (data === undefined || data === null) throw new Error(`${name} has no payload`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data);
  // The payload's checksum, when the API sends one, guards against corruption on the way.
  const sum = res.payload?.dataCrc32c;
  if (sum !== undefined && sum !== null && !sameCrc(sum, crc32c(bytes))) throw new Error(`${name}: the payload does not match its CRC32C`);
  const text = bytes.toString('utf8');
  return { value: secretValue(text, path), ttl_s, issuance_id: `version:${res.name ?? name}` };
}

/**
 * Does a CRC32C the API sent match ours? It travels as an int64, which the client may hand over as
 * a number, a decimal string or a Long, and signed (a CRC past 2^31 comes back negative): compare
 * the low 32 bits.
 */
export function sameCrc(sent: number | string | { toNumber(): number }, crc: number): boolean {
  const n = typeof sent === 'object' ? sent.toNumber() : Number(sent);
  return Number.isSafeInteger(n) && n >>> 0 === crc >>> 0;
}
