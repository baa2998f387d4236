/**
 * A reply read through the GCP and Azure clients is bounded, as the AWS clients' are: a Secret
 * Manager, a Key Vault or an Entra ID token endpoint that answers with a body that never ends fails
 * the read once 1 MiB has arrived, and the call is denied CREDENTIAL_UNAVAILABLE saying so. Before,
 * the clients read the whole body into the daemon's memory until the provider's timeout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAzure } from './fake-azure.js';
import { FakeGcp } from './fake-gcp.js';
import { makeStack, type Stack } from './daemon-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'fm-reply-cap-'));
const gcp = new FakeGcp(work);
const azure = new FakeAzure(work);
// Its own directory: a fake's certificate files are named for the service.
const azureToken = new FakeAzure(mkdtempSync(join(tmpdir(), 'fm-reply-cap-entra-')));
let s: Stack;

const azureProvider = (name: string, fake: FakeAzure) => `provider "${name}" {
  type           = "azure-kv"
  vault_url      = "${fake.url}"
  tenant_id      = "${fake.tenant}"
  client_id      = "${fake.clientId}"
  client_secret  = "${fake.clientSecret}"
  authority_host = "${fake.url}"
  timeout        = "6s"
}
`;
const credential = (id: string, provider: string, tool: string) => `  credential "${id}" {
    provider = "${provider}"
    path     = "db-password"
    tools    = ["${tool}"]
  }
`;

before(async () => {
  await Promise.all([gcp.start(), azure.start(), azureToken.start()]);
  gcp.endless = true;
  azure.endless = true;
  azureToken.tokenEndless = true;
  const ca = join(work, 'ca.pem');
  writeFileSync(ca, [gcp, azure, azureToken].map((f) => readFileSync(f.caFile, 'utf8')).join(''));
  s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "gcp" {
  type     = "gcp-sm"
  project  = "test-project"
  endpoint = "${gcp.url}"
  timeout  = "6s"
}
${azureProvider('azure', azure)}${azureProvider('entra', azureToken)}
agent "pay" {
  default deny
  rules {
    permit pay/*
  }
${credential('gcp', 'gcp', 'pay/gcp')}${credential('azure', 'azure', 'pay/azure')}${credential('entra', 'entra', 'pay/entra')}}
`,
    { GOOGLE_APPLICATION_CREDENTIALS: gcp.credentialsFile, NODE_EXTRA_CA_CERTS: ca },
  );
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  for (const f of [gcp, azure, azureToken]) f.stop();
});

/** The call is denied for the reply's size well within the provider's 6 s timeout. */
async function refusedAtTheCap(tool: string, what: RegExp): Promise<void> {
  const started = Date.now();
  const r = await s.govern({ agent_id: 'pay', tool_id: tool, args: {} });
  const took = Date.now() - started;
  assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE', JSON.stringify(r));
  assert.match(r.structured_denial!.human_message, what);
  assert.ok(took < 4000, `the read took ${took} ms: it ran to the deadline`);
}

test('a Secret Manager reply that never ends is refused at 1 MiB', () =>
  refusedAtTheCap('pay/gcp', /Google Cloud \(127\.0\.0\.1:\d+\) replied with more than 1 MiB/));

test('a Key Vault reply that never ends is refused at 1 MiB', () =>
  refusedAtTheCap('pay/azure', /Azure \(127\.0\.0\.1:\d+\) replied with more than 1 MiB/));

// The sign-in library (MSAL) words every failure of its request the same way.
test('an Entra ID token reply that never ends is refused at 1 MiB', () => refusedAtTheCap('pay/entra', /entra provider: network_error/));
