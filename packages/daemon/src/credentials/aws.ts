/**
 * AWS Secrets Manager through the official clients. With `role_arn`, the broker first assumes the
 * role for this call (STS AssumeRole, a session named for the agent, with a session policy that
 * allows only GetSecretValue on this secret), so the read happens under the narrowest principal; it
 * then reads the secret (`GetSecretValue`). Endpoints follow the SDK's own settings
 * (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SECRETS_MANAGER), credentials its default chain.
 */
import { secretValue, type Secret } from './secret-value.js';
import { daemonNow } from '../core/clock.js';
import { deadline } from '../outbound/deadline.js';
import { capAwsReplies } from '../outbound/sdk-reply-cap.js';

export interface AwsConfig {
  region: string;
  role_arn?: string;
}

export interface AssumedRole {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };
  /** The assumed role's id, for the record. */
  id: string;
}

/** STS AssumeRole: a session named for whoever it serves, optionally narrowed by a session policy. */
export async function assumeRole(
  region: string,
  roleArn: string,
  session: string,
  durationS: number,
  abortSignal: AbortSignal,
  policy?: object,
): Promise<AssumedRole> {
  // The SDK is loaded on first use: a stack without AWS never pays for it.
  const { AssumeRoleCommand, STSClient } = await import('@aws-sdk/client-sts');
  const sts = capAwsReplies(new STSClient({ region }));
  const assumed = await sts.send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: `faramesh-${session}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64),
      // STS sessions last at least 15 minutes.
      DurationSeconds: Math.max(900, durationS),
      ...(policy ? { Policy: JSON.stringify(policy) } : {}),
    }),
    { abortSignal },
  );
  const c = assumed.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('STS returned no credentials');
  return {
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    },
    id: assumed.AssumedRoleUser?.AssumedRoleId ?? 'assumed role',
  };
}

/**
 * The session policy's resource for a secret id. A name gets its ARN, ending in `*` for the six
 * characters AWS appends; an ARN (GetSecretValue takes either) is one already, and put under a
 * second `arn:…:secret:` it would match nothing, so every read with a role would be refused.
 */
function secretResource(region: string, path: string): string {
  return path.startsWith('arn:') ? `${path}*` : `arn:aws:secretsmanager:${region}:*:secret:${path}*`;
}

/**
 * The SDK's abort signal reaches its HTTP requests only, not the lookup of the daemon's own
 * credentials before them (a `credential_process`, web identity, the instance or container
 * endpoint): a lookup that hangs held the call for as long as it did. The daemon keeps the deadline.
 */
export function awsSecret(cfg: AwsConfig, spec: { path: string; ttl_s: number; agent: string }, timeoutMs: number): Promise<Secret> {
  return deadline(readSecret(cfg, spec, timeoutMs), timeoutMs, 'AWS (the credential lookup, STS or Secrets Manager)');
}

async function readSecret(cfg: AwsConfig, spec: { path: string; ttl_s: number; agent: string }, timeoutMs: number): Promise<Secret> {
  const abortSignal = AbortSignal.timeout(timeoutMs);
  let credentials: AssumedRole['credentials'] | undefined;
  let ttl_s = spec.ttl_s;
  let via = '';
  if (cfg.role_arn) {
    // The session may read this secret and nothing else; the credential's TTL is the shorter of the two.
    const assumed = await assumeRole(cfg.region, cfg.role_arn, spec.agent, spec.ttl_s, abortSignal, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: secretResource(cfg.region, spec.path),
        },
      ],
    });
    credentials = assumed.credentials;
    const exp = credentials.expiration;
    if (exp) ttl_s = Math.min(ttl_s, Math.max(0, Math.floor((exp.getTime() - daemonNow()) / 1000)));
    via = ` via ${assumed.id}`;
  }
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const sm = capAwsReplies(new SecretsManagerClient({ region: cfg.region, ...(credentials ? { credentials } : {}) }));
  const got = await sm.send(new GetSecretValueCommand({ SecretId: spec.path }), { abortSignal });
  if (got.SecretString === undefined) throw new Error('the secret has no SecretString (binary secrets are not served)');
  return { value: secretValue(got.SecretString, spec.path), ttl_s, issuance_id: `version:${got.VersionId ?? '?'}${via}` };
}
