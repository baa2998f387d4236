/**
 * The gcp-sm and azure-kv providers with the official clients against fakes speaking the real wire
 * protocols over TLS: Secret Manager's REST `access` (a service account's JWT, the payload's
 * CRC32C), Entra ID's client-credentials flow and Key Vault's bearer challenge. The value reaches the
 * call and never the log; a missing secret, a corrupted payload or a wrong client secret is
 * CREDENTIAL_UNAVAILABLE.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAzure } from './fake-azure.js';
import { FakeGcp } from './fake-gcp.js';
import { makeStack, providersProbed, type Stack } from './daemon-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'fm-cloud-'));
const gcp = new FakeGcp(work);
const azure = new FakeAzure(work);
let s: Stack;

const credential = (id: string, provider: string, path: string, tool: string) => `  credential "${id}" {
    provider = "${provider}"
    path     = "${path}"
    ttl      = "45s"
    header   = "X-Api-Key"
    tools    = ["${tool}"]
  }
`;

before(async () => {
  await Promise.all([gcp.start(), azure.start()]);
  gcp.secrets.set('projects/test-project/secrets/stripe', ['sk_old', JSON.stringify({ value: 'sk_live_FROM_GCP' })]);
  azure.secrets.set('db-password', [
    { version: '0a1b', value: 'older' },
    { version: '9f8e', value: 'pw_FROM_AZURE' },
  ]);
  const ca = join(work, 'ca.pem');
  writeFileSync(ca, readFileSync(gcp.caFile, 'utf8') + readFileSync(azure.caFile, 'utf8'));
  s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "gcp" {
  type     = "gcp-sm"
  project  = "test-project"
  endpoint = "${gcp.url}"
}

provider "azure" {
  type           = "azure-kv"
  vault_url      = "${azure.url}"
  tenant_id      = "${azure.tenant}"
  client_id      = "${azure.clientId}"
  client_secret  = env("AZURE_CLIENT_SECRET")
  authority_host = "${azure.url}"
}

provider "azure-bad" {
  type           = "azure-kv"
  vault_url      = "${azure.url}"
  tenant_id      = "${azure.tenant}"
  client_id      = "${azure.clientId}"
  client_secret  = "not-the-secret"
  authority_host = "${azure.url}"
}

agent "pay" {
  default deny
  rules {
    permit pay/*
  }
${credential('stripe', 'gcp', 'stripe', 'pay/gcp')}${credential('stripe-v1', 'gcp', 'stripe/versions/1', 'pay/gcp-v1')}${credential('gone', 'gcp', 'nothing', 'pay/gcp-missing')}${credential('torn', 'gcp', 'torn', 'pay/gcp-torn')}${credential('db', 'azure', 'db-password', 'pay/azure')}${credential('db-old', 'azure', 'db-password/0a1b', 'pay/azure-old')}${credential('db-missing', 'azure', 'nothing', 'pay/azure-missing')}${credential('db-bad', 'azure-bad', 'db-password', 'pay/azure-bad')}${credential('db-torn', 'azure', 'torn-pw', 'pay/azure-torn')}}
`,
    { GOOGLE_APPLICATION_CREDENTIALS: gcp.credentialsFile, NODE_EXTRA_CA_CERTS: ca, AZURE_CLIENT_SECRET: azure.clientSecret },
  );
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  // The start's probe of each provider is over before anything counts the fakes' calls.
  await providersProbed(s);
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  gcp.stop();
  azure.stop();
});

const value = (r: object) => (r as { credential?: { value?: string } }).credential?.value;

test('gcp-sm: the latest version or a named one, read over REST with the service account JWT', async () => {
  const from = gcp.calls.length; // after the start's probe
  const latest = await s.govern({ agent_id: 'pay', tool_id: 'pay/gcp', args: {} });
  assert.equal(latest.effect, 'PERMIT', JSON.stringify(latest));
  assert.equal(value(latest), 'sk_live_FROM_GCP');
  const v1 = await s.govern({ agent_id: 'pay', tool_id: 'pay/gcp-v1', args: {} });
  assert.equal(value(v1), 'sk_old', JSON.stringify(v1));
  const calls = gcp.calls.slice(from).filter((c) => c.path.includes('/secrets/'));
  assert.deepEqual(
    calls.map((c) => [c.path, c.authorized]),
    [
      ['/v1/projects/test-project/secrets/stripe/versions/latest:access', true],
      ['/v1/projects/test-project/secrets/stripe/versions/1:access', true],
    ],
  );
  const missing = await s.govern({ agent_id: 'pay', tool_id: 'pay/gcp-missing', args: {} });
  assert.equal(missing.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(missing.structured_denial!.human_message, /gcp.*not found/is);
});

test('azure-kv: a client-credentials token for the vault scope, the bearer challenge, the latest or a named version', async () => {
  const latest = await s.govern({ agent_id: 'pay', tool_id: 'pay/azure', args: {} });
  assert.equal(latest.effect, 'PERMIT', JSON.stringify(latest));
  assert.equal(value(latest), 'pw_FROM_AZURE');
  assert.equal(value(await s.govern({ agent_id: 'pay', tool_id: 'pay/azure-old', args: {} })), 'older');
  assert.ok(
    azure.calls.some((c) => !c.authorized),
    'the first request met the challenge',
  );
  assert.ok(azure.calls.filter((c) => c.path.startsWith('/secrets/db-password')).some((c) => c.authorized));
  const missing = await s.govern({ agent_id: 'pay', tool_id: 'pay/azure-missing', args: {} });
  assert.equal(missing.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(missing.structured_denial!.human_message, /was not found/);
  const bad = await s.govern({ agent_id: 'pay', tool_id: 'pay/azure-bad', args: {} });
  assert.equal(bad.effect, 'DENY');
  assert.equal(bad.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(bad.structured_denial!.human_message, /azure-bad/);
});

test('a payload damaged on the way (its CRC32C does not match) is refused; no value reaches the log', async () => {
  gcp.secrets.set('projects/test-project/secrets/torn', ['x']);
  gcp.corrupt = true;
  try {
    const r = await s.govern({ agent_id: 'pay', tool_id: 'pay/gcp-torn', args: {} });
    assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
    assert.match(r.structured_denial!.human_message, /CRC32C/);
  } finally {
    gcp.corrupt = false;
  }
  assert.equal(value(await s.govern({ agent_id: 'pay', tool_id: 'pay/gcp-torn', args: {} })), 'x', 'nothing bad was cached');
  const records = (await s.cliAsync('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '50')).stdout;
  for (const secret of ['sk_live_FROM_GCP', 'sk_old', 'pw_FROM_AZURE', 'older', azure.clientSecret])
    assert.ok(!records.includes(secret), secret);
  assert.match(records, /"issuance_id":"version:projects\/test-project\/secrets\/stripe\/versions\/2"/);
  assert.match(records, /"issuance_id":"version:9f8e"/);
});

test('a Key Vault reply torn after the value: CREDENTIAL_UNAVAILABLE that names the fault, and the value is in neither the denial nor the log', async () => {
  azure.secrets.set('torn-pw', [{ version: '7c7c', value: 'pw_TORN_SECRET' }]);
  azure.torn = true;
  let r;
  try {
    r = await s.govern({ agent_id: 'pay', tool_id: 'pay/azure-torn', args: {} });
  } finally {
    azure.torn = false;
  }
  assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE', JSON.stringify(r));
  assert.match(r.structured_denial!.human_message, /azure provider: its reply is not valid JSON/);
  assert.ok(!JSON.stringify(r).includes('pw_TORN'), JSON.stringify(r));
  const records = (await s.cliAsync('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '50')).stdout;
  assert.ok(!records.includes('pw_TORN'), 'the torn reply reached the log');
  const status = (await s.cliAsync('status', '--format', 'json')).stdout;
  assert.ok(!status.includes('pw_TORN'), 'the torn reply reached status');
});
