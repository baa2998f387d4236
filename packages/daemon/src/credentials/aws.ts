/**
 * AWS Secrets Manager through the official clients. With `role_arn`, the broker first assumes the
 * role for this call (STS AssumeRole, a session named for the agent, with a session policy that
 * allows only GetSecretValue on this secret), so the read happens under the narrowest principal; it
 * then reads the secret (`GetSecretValue`). Endpoints follow the SDK's own settings
 * (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SECRETS_MANAGER), credentials its default chain.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { secretValue, type Secret } from './secret-value.js';

export interface AwsConfig {
  region: string;
  role_arn?: string;
}

export async function awsSecret(cfg: AwsConfig, spec: { path: string; ttl_s: number; agent: string }, timeoutMs: number): Promise<Secret> {
  const abortSignal = AbortSignal.timeout(timeoutMs);
  let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  let ttl_s = spec.ttl_s;
  let via = '';
  if (cfg.role_arn) {
    const sts = new STSClient({ region: cfg.region });
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: cfg.role_arn,
        RoleSessionName: `faramesh-${spec.agent}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64),
        // STS sessions last at least 15 minutes; the credential's own TTL is the shorter of the two.
        DurationSeconds: Math.max(900, spec.ttl_s),
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'secretsmanager:GetSecretValue',
              Resource: `arn:aws:secretsmanager:${cfg.region}:*:secret:${spec.path}*`,
            },
          ],
        }),
      }),
      { abortSignal },
    );
    const c = assumed.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('STS returned no credentials');
    credentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
    };
    if (c.Expiration) ttl_s = Math.min(ttl_s, Math.max(0, Math.floor((c.Expiration.getTime() - Date.now()) / 1000)));
    via = ` via ${assumed.AssumedRoleUser?.AssumedRoleId ?? 'assumed role'}`;
  }
  const sm = new SecretsManagerClient({ region: cfg.region, ...(credentials ? { credentials } : {}) });
  const got = await sm.send(new GetSecretValueCommand({ SecretId: spec.path }), { abortSignal });
  if (got.SecretString === undefined) throw new Error(`secret ${spec.path} has no SecretString`);
  return { value: secretValue(got.SecretString, spec.path), ttl_s, issuance_id: `version:${got.VersionId ?? '?'}${via}` };
}
