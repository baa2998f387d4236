/**
 * With `role_arn`, the STS session policy allows GetSecretValue on the credential's secret alone. A
 * path that is the secret's ARN (GetSecretValue takes a name or an ARN) is that resource already: it
 * must not be put under a second `arn:…:secret:` prefix, a resource no secret has.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { awsSecret } from '../src/credentials/aws.js';
import { awsEndpoint } from './aws-endpoint.js';

/** The session policies STS was given, in order. */
const policies: { Statement: { Resource: string }[] }[] = [];
const aws = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    if (req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue') {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      return void res.end(JSON.stringify({ SecretString: 'db-pass', VersionId: 'v1' }));
    }
    policies.push(JSON.parse(new URLSearchParams(body).get('Policy') ?? '{}') as (typeof policies)[number]);
    const expires = new Date(Date.now() + 900_000).toISOString();
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAFAKE</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>${expires}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKE:x</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/r/x</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`,
    );
  });
});

let restore: () => void;
before(async () => {
  restore = await awsEndpoint(aws);
});
after(() => {
  aws.close();
  restore();
});

test('a secret named by its ARN: the session may read that ARN; one named by name: its ARN under the region', async () => {
  const cfg = { region: 'us-east-1', role_arn: 'arn:aws:iam::123456789012:role/faramesh' };
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf';
  assert.equal((await awsSecret(cfg, { path: arn, ttl_s: 30, agent: 'pay' }, 5000)).value, 'db-pass');
  assert.equal((await awsSecret(cfg, { path: 'prod/db', ttl_s: 30, agent: 'pay' }, 5000)).value, 'db-pass');
  assert.deepEqual(
    policies.map((p) => p.Statement[0]!.Resource),
    [`${arn}*`, 'arn:aws:secretsmanager:us-east-1:*:secret:prod/db*'],
  );
});
