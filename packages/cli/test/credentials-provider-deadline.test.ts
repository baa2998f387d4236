/**
 * A credential provider that accepts the connection and never answers is a failure like any other,
 * within the provider's `timeout`: the call is denied CREDENTIAL_UNAVAILABLE, not held. GCP's client
 * in REST mode and Entra ID's token flow both take a timeout they do not honour, so the daemon keeps
 * the deadline itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAzure } from './fake-azure.js';
import { FakeGcp } from './fake-gcp.js';
import { makeStack, type Stack } from './daemon-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'fm-deadline-'));
const gcp = new FakeGcp(work);
const azure = new FakeAzure(work);
let s: Stack;

before(async () => {
  await Promise.all([gcp.start(), azure.start()]);
  gcp.secrets.set('projects/test-project/secrets/stripe', ['sk_live_FROM_GCP']);
  azure.secrets.set('db-password', [{ version: '9f8e', value: 'pw_FROM_AZURE' }]);
  gcp.hang = true;
  azure.tokenHang = true;
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
  timeout  = "1s"
}

provider "azure" {
  type           = "azure-kv"
  vault_url      = "${azure.url}"
  tenant_id      = "${azure.tenant}"
  client_id      = "${azure.clientId}"
  client_secret  = env("AZURE_CLIENT_SECRET")
  authority_host = "${azure.url}"
  timeout        = "1s"
}

agent "pay" {
  default deny
  rules {
    permit pay/*
  }
  credential "stripe" {
    provider = "gcp"
    path     = "stripe"
    tools    = ["pay/gcp"]
  }
  credential "db" {
    provider = "azure"
    path     = "db-password"
    tools    = ["pay/azure"]
  }
}
`,
    { GOOGLE_APPLICATION_CREDENTIALS: gcp.credentialsFile, NODE_EXTRA_CA_CERTS: ca, AZURE_CLIENT_SECRET: azure.clientSecret },
  );
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  gcp.stop();
  azure.stop();
});

/** The call's answer, or `held` when none came within 8 s (the provider's timeout is 1 s). */
const answer = (tool: string) =>
  Promise.race([
    s.govern({ agent_id: 'pay', tool_id: tool, args: {} }),
    new Promise<'held'>((r) => setTimeout(() => r('held'), 8000).unref()),
  ]);

test('a Secret Manager that never answers: the call is denied CREDENTIAL_UNAVAILABLE within its timeout', async () => {
  const r = await answer('pay/gcp');
  assert.notEqual(r, 'held', 'the call was held past the provider timeout');
  assert.equal(r !== 'held' && r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE', JSON.stringify(r));
  assert.match(r !== 'held' ? r.structured_denial!.human_message : '', /gcp provider: .*did not answer within 1 s/);
});

test('an Entra ID token endpoint that never answers: the Key Vault read is denied CREDENTIAL_UNAVAILABLE within its timeout', async () => {
  const r = await answer('pay/azure');
  assert.notEqual(r, 'held', 'the call was held past the provider timeout');
  assert.equal(r !== 'held' && r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE', JSON.stringify(r));
  assert.ok(azure.tokenRequests > 0, 'the sign-in was tried');
});
