import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCollector, makeStack, sleep, until } from './daemon-helpers.js';

test('a permit recorded as a DENY (its credential failed) fires the deny alerts, not the permit ones', async () => {
  const got: { routing_key: string; payload: { summary: string } }[] = [];
  const collector = await jsonCollector((b) => got.push(b as (typeof got)[number]), { status: 202 });
  const { url } = collector;
  const s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
  credential "api" {
    provider = env("CRED_PROVIDER")
    tools    = ["ticket/read"]
  }
  alert {
    on     = "deny"
    notify = "pagerduty://on-deny"
  }
  alert {
    on     = "permit"
    notify = "pagerduty://on-permit"
  }
}
`,
    { FARAMESH_PAGERDUTY_URL: `${url}/pd`, CRED_PROVIDER: 'no-such-provider' },
  );
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    const r = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 1 } });
    assert.equal(r.effect, 'DENY');
    assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
    await until('an alert', () => got.length > 0);
    await sleep(300);
    assert.deepEqual(
      got.map((a) => a.routing_key),
      ['on-deny'],
      `alerts sent: ${got.map((a) => `${a.routing_key}: ${a.payload.summary}`).join('; ')}`,
    );
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    collector.close();
  }
});
