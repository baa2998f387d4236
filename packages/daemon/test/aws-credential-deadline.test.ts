/**
 * The daemon's own AWS credentials are looked up within the provider's `timeout`, as the request
 * is: a lookup that hangs (here a `credential_process` that takes its time) fails the call at the
 * deadline, which the broker turns into CREDENTIAL_UNAVAILABLE, instead of holding it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsSecret } from '../src/credentials/aws.js';

/** How long the credential process takes: well past the 1 s timeout, short enough not to outlive the test by much. */
const LOOKUP_S = 6;

const saved = { ...process.env };
before(() => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-aws-lookup-'));
  const slow = join(dir, 'slow-credentials.cjs');
  writeFileSync(slow, `setTimeout(() => {}, ${LOOKUP_S * 1000});\n`);
  writeFileSync(join(dir, 'config'), `[profile slow]\ncredential_process = ${process.execPath} ${slow}\n`);
  writeFileSync(join(dir, 'credentials'), '');
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_PROFILE: 'slow',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Never reached: the lookup comes first.
    AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
  });
});
after(() => {
  process.env = saved;
});

test('a credential lookup that hangs fails the read at the deadline', async () => {
  // Loaded before the clock starts: loading the SDK is not the lookup.
  await import('@aws-sdk/client-secrets-manager');
  const started = Date.now();
  await assert.rejects(awsSecret({ region: 'us-east-1' }, { path: 'prod/db', ttl_s: 30, agent: 'pay' }, 1000), /did not answer within 1 s/);
  const took = Date.now() - started;
  assert.ok(took < (LOOKUP_S - 2) * 1000, `the read waited ${took} ms for the credential lookup`);
});
