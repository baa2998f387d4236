/**
 * An X.509-SVID is believed only while every certificate it rests on is in date: a trust bundle
 * root that expires before the leaf ends the agent's attestation then (the Workload API gone, no
 * new set comes), and the recorded `agent_svid_expiry` is that earlier time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSpire } from './fake-spire.js';
import { decisionRecords, makeStack, until } from './daemon-helpers.js';

test('an SVID whose bundle root expires first stops attesting the agent when the root expires', async () => {
  const caMs = 15_000;
  const caExpires = Date.now() + caMs;
  const spire = await FakeSpire.start(mkdtempSync(join(tmpdir(), 'fm-spire-ca-')), caMs);
  await spire.setSvids(['spiffe://example.org/agents/ops'], 3_600_000);
  const s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

identity "spire" {
  type         = "spiffe"
  socket       = "unix://${spire.socket}"
  trust_domain = "example.org"
}

agent "ops" {
  default deny
  rules {
    permit plain
  }
}
`);
  try {
    const applied = await s.cliAsync('apply');
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const plain = () => s.govern({ agent_id: 'ops', tool_id: 'plain', args: {} });
    assert.equal((await plain()).effect, 'PERMIT');
    const expiry = Date.parse(String((await decisionRecords(s)).at(-1)!.agent_svid_expiry));
    assert.ok(
      expiry <= caExpires + 1000,
      `the recorded expiry is the root's, not the leaf's an hour out: ${new Date(expiry).toISOString()}`,
    );
    // The Workload API goes away: the last set stands only until its certificates expire.
    await spire.close();
    await until('the expired root ends the attestation', async () => (await plain()).reason_code === 'IDENTITY_UNVERIFIED', 25_000);
  } finally {
    await s.cliAsync('apply', '--stop');
    await spire.close().catch(() => {});
    s.stop();
  }
});
