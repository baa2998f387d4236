/**
 * The aws-sm provider with the official AWS clients against a fake that verifies SigV4: an assumed
 * role per call (a session named for the agent, a policy allowing only this secret), the secret read
 * under that session, plain reads with the daemon's own keys, and CREDENTIAL_UNAVAILABLE on failure.
 */
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { FakeAws } from './fake-aws.js';
import { appliedStack, providersProbed, RUNTIME, type Stack } from './daemon-helpers.js';

const aws = new FakeAws();
let s: Stack;

before(async () => {
  await aws.start();
  aws.endless.add('prod/huge');
  aws.secrets.set('prod/db', { value: JSON.stringify({ value: 'db-pass-XYZ' }), version: 'v7' });
  s = appliedStack(
    `${RUNTIME}
provider "aws" {
  type     = "aws-sm"
  region   = "us-east-1"
  role_arn = "arn:aws:iam::123456789012:role/faramesh"
}

provider "plain" {
  type   = "aws-sm"
  region = "us-east-1"
}

agent "pay" {
  default deny
  rules {
    permit db/*
  }
  credential "db" {
    provider = "aws"
    path     = "prod/db"
    ttl      = "60s"
    header   = "X-Db-Password"
    tools    = ["db/query"]
  }
  credential "plain" {
    provider = "plain"
    path     = "prod/db"
    header   = "X-Db-Password"
    tools    = ["db/plain"]
  }
  credential "huge" {
    provider = "plain"
    path     = "prod/huge"
    tools    = ["db/huge"]
  }
  credential "missing" {
    provider = "plain"
    path     = "prod/nothing"
    tools    = ["db/missing"]
  }
}
`,
    {
      AWS_ACCESS_KEY_ID: aws.rootKey,
      AWS_SECRET_ACCESS_KEY: aws.rootSecret,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_STS: aws.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  );
  // The start's probe of each provider is over before anything counts the fake's calls.
  await providersProbed(s);
});
after(() => {
  s.cli('apply', '--stop');
  aws.stop();
});

test('with role_arn: AssumeRole per call (session named for the agent, a policy for this secret only), then the read under that session', async () => {
  const r = await s.govern({ agent_id: 'pay', tool_id: 'db/query', args: {} });
  assert.equal(r.effect, 'PERMIT', JSON.stringify(r));
  assert.equal((r.credential as { value: string }).value, 'db-pass-XYZ');
  const [assume, read] = aws.calls.slice(-2);
  assert.deepEqual([assume!.service, assume!.action, assume!.key, assume!.signed], ['sts', 'AssumeRole', aws.rootKey, true]);
  assert.deepEqual([read!.service, read!.action, read!.signed, read!.session], ['secretsmanager', 'GetSecretValue', true, 'faramesh-pay']);
  assert.match(read!.key, /^ASIA/, 'read with the session keys, not the daemon own');
  const policy = JSON.parse(aws.keys.get(read!.key)!.policy!) as { Statement: { Action: string; Resource: string }[] };
  assert.deepEqual(
    policy.Statement.map((x) => [x.Action, x.Resource]),
    [['secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:us-east-1:*:secret:prod/db*']],
  );
  const second = await s.govern({ agent_id: 'pay', tool_id: 'db/query', args: {} });
  assert.notEqual(aws.calls.at(-1)!.key, read!.key, 'a new session for the next call');
  assert.equal((second.credential as { value: string }).value, 'db-pass-XYZ');
});

test('without a role the daemon own keys read it; a missing secret is CREDENTIAL_UNAVAILABLE; a bad signature is refused by the service', async () => {
  const plain = await s.govern({ agent_id: 'pay', tool_id: 'db/plain', args: {} });
  assert.equal((plain.credential as { value: string }).value, 'db-pass-XYZ');
  assert.deepEqual([aws.calls.at(-1)!.key, aws.calls.at(-1)!.signed], [aws.rootKey, true]);
  const missing = await s.govern({ agent_id: 'pay', tool_id: 'db/missing', args: {} });
  assert.equal(missing.effect, 'DENY');
  assert.equal(missing.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(missing.structured_denial!.human_message, /can't find the specified secret/);
  const forged = await fetch(aws.url, {
    method: 'POST',
    headers: {
      'x-amz-target': 'secretsmanager.GetSecretValue',
      'x-amz-date': '20261122T120000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${aws.rootKey}/20261122/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
    },
    body: JSON.stringify({ SecretId: 'prod/db' }),
  });
  assert.equal(forged.status, 403, 'the fake checks signatures: a wrong one fails');
  const records = s.cli('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '20').stdout;
  assert.ok(!records.includes('db-pass-XYZ'));
  assert.match(records, /"issuance_id":"version:v7 via AROAFAKE:faramesh-pay"/);
});

test('a GetSecretValue reply that never ends is CREDENTIAL_UNAVAILABLE at once, and the daemon does not grow with it', async () => {
  const peak = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${s.pid()}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const before = peak();
  const started = Date.now();
  const r = await s.govern({ agent_id: 'pay', tool_id: 'db/huge', args: {} });
  const took = Date.now() - started;
  assert.equal(r.effect, 'DENY');
  assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(r.structured_denial!.human_message, /replied with more than 1 MiB/);
  assert.ok(took < 3000, `the call took ${took} ms`);
  const grew = peak() - before;
  assert.ok(grew < 48, `the daemon grew by ${grew.toFixed(0)} MiB`);
});
