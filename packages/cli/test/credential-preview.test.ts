/**
 * `faramesh credential preview` says what the daemon would do: what each provider type fetches (a
 * SPIFFE provider issues a JWT-SVID, not a Vault child token), and a provider named through env("…")
 * that matches no block is a CREDENTIAL_UNAVAILABLE denial, never a stub secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStack, RUNTIME } from './daemon-helpers.js';

const s = makeStack(
  `${RUNTIME}
provider "workload" {
  type         = "spiffe"
  socket       = "unix:///run/spire/agent.sock"
  trust_domain = "corp.example"
}

provider "aws" {
  type   = "aws-sm"
  region = "us-east-1"
}

agent "payments-bot" {
  default deny
  rules {
    permit ledger/read
    permit db/query
    permit region/thing
  }
  credential "ledger" {
    provider = "workload"
    scope    = ["ledger.corp.example"]
    tools    = ["ledger/*"]
  }
  credential "db" {
    provider = "aws"
    path     = "prod/db"
    tools    = ["db/*"]
  }
  credential "regional" {
    provider = env("REGION_PROVIDER")
    path     = "payments/stripe"
    tools    = ["region/thing"]
  }
}
`,
  { REGION_PROVIDER: 'vault-EU' },
);

const preview = (tool: string) => {
  const r = s.cli('credential', 'preview', '--agent', 'payments-bot', '--tool', tool, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { credential: { stub: boolean; what: string; provider_type: string | null } }).credential;
};

test('preview names what each provider type fetches', () => {
  assert.equal(preview('ledger/read').what, 'a JWT-SVID for spiffe://corp.example/agents/payments-bot with audience [ledger.corp.example]');
  assert.equal(preview('db/query').what, 'AWS Secrets Manager secret prod/db');
});

test('a provider named by env("…") that matches no block: preview says the call is denied, not that it gets a stub', () => {
  const c = preview('region/thing');
  assert.equal(c.stub, false);
  assert.equal(c.provider_type, null);
  assert.match(c.what, /names no provider block, so the call is denied CREDENTIAL_UNAVAILABLE/);
  const text = s.cli('credential', 'preview', '--agent', 'payments-bot', '--tool', 'region/thing');
  assert.doesNotMatch(text.stdout, /STUB/);
});

test('preview for an agent the policy does not declare is an error, not "no credential is bound"', () => {
  const r = s.cli('credential', 'preview', '--agent', 'payments-bto', '--tool', 'db/query');
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /no agent 'payments-bto' in the policy \(agents: payments-bot\)/);
  assert.doesNotMatch(r.stdout, /no credential is bound/);
});
