/**
 * A JWT-SVID is reused for half its life, at most 30 s. When the daemon's clock follows the system
 * clock back (a step of more than a week), one fetched before the step is fetched again, not reused
 * (and its TTL reported in days) until the clock climbs back to when it was fetched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, Source } from '@faramesh/fpl';
import { CredentialBroker } from '@faramesh/daemon';
import { FakeSpire } from './fake-spire.js';

const OPS = 'spiffe://example.org/agents/ops';

test('a JWT-SVID fetched before the clock stepped back is fetched again after it', async () => {
  const spire = await FakeSpire.start(mkdtempSync(join(tmpdir(), 'fm-spire-clock-')));
  try {
    await spire.setSvids([OPS]);
    const ir = compile(
      new Source(
        'governance.fms',
        `provider "workload" {
  type         = "spiffe"
  socket       = "${spire.socket}"
  trust_domain = "example.org"
}

agent "ops" {
  default deny
  rules {
    permit api/call
  }
  credential "api" {
    provider = "workload"
    scope    = ["api.example.com"]
    tools    = ["api/call"]
  }
}
`,
      ),
      { env: {} },
    ).ir!;
    const broker = new CredentialBroker({});
    const issue = async (nowMs: number) => {
      const got = await broker.issue(ir, ir.agents[0]!.credentials[0]!, 'ops', 'api/call', nowMs);
      assert.ok(got.ok, JSON.stringify(got));
      return got;
    };
    const now = Date.now();
    await issue(now);
    await issue(now + 1000);
    assert.equal(spire.jwtCalls, 1, 'reused within its window');
    await issue(now - 8 * 86_400_000);
    assert.equal(spire.jwtCalls, 2, 'fetched again after the clock stepped back');
  } finally {
    await spire.close();
  }
});
