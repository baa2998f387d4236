import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCollector, makeStack, RUNTIME, sleep, until, type Stack } from './daemon-helpers.js';

interface PagerDutyAlert {
  routing_key: string;
  payload: { summary: string };
}

/** A stack of `agents` whose pagerduty:// alerts reach a local collector, applied; `got` is what arrived. */
async function withAlerts(
  agents: string,
  env: Record<string, string>,
  body: (s: Stack, got: PagerDutyAlert[]) => Promise<void>,
): Promise<void> {
  const got: PagerDutyAlert[] = [];
  const collector = await jsonCollector((b) => got.push(b as PagerDutyAlert), { status: 202 });
  const s = makeStack(`${RUNTIME}${agents}`, { FARAMESH_PAGERDUTY_URL: `${collector.url}/pd`, ...env });
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    await body(s, got);
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    collector.close();
  }
}

test('a permit recorded as a DENY (its credential failed) fires the deny alerts, not the permit ones', () =>
  withAlerts(
    `agent "bot" {
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
    { CRED_PROVIDER: 'no-such-provider' },
    async (s, got) => {
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
    },
  ));

test('alert { on = "approved" } fires once an operator approval is recorded, naming who approved', () =>
  withAlerts(
    `agent "bot" {
  default deny
  rules {
    defer ticket/refund
  }
  alert {
    on     = "approved"
    notify = "pagerduty://on-approved"
  }
}
`,
    {},
    async (s, got) => {
      const deferred = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'refund', args: { id: 1 } });
      assert.equal(deferred.effect, 'DEFER');
      await sleep(300);
      assert.equal(got.length, 0, 'a deferral is not an approval');
      const approved = await s.cliAsync('approvals', 'approve', deferred.defer_token!, '--reason', 'checked');
      assert.equal(approved.code, 0, approved.stderr);
      await until('the approved alert', () => got.length > 0);
      assert.equal(got[0]!.routing_key, 'on-approved');
      assert.match(got[0]!.payload.summary, /approved by .+: checked/);
    },
  ));

test('a call refused before the engine saw it (a tampered delegation token) fires the agent’s deny alerts', () =>
  withAlerts(
    `agent "boss" {
  default deny
  rules {
    permit delegate/worker
  }
  delegate {
    to = ["worker"]
  }
}
agent "worker" {
  default deny
  rules {
    permit web/get
  }
  alert {
    on     = "deny"
    notify = "pagerduty://worker-deny"
  }
}
`,
    {},
    async (s, got) => {
      const handed = await s.govern({ agent_id: 'boss', tool: 'delegate', operation: 'worker', args: {} });
      const token = handed.delegation_token as string;
      assert.ok(token);
      const [head, body, sig] = token.split('.') as [string, string, string];
      const forged = `${head}.${body}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
      const r = await s.govern({ agent_id: 'worker', tool: 'web', operation: 'get', args: {}, delegation_token: forged });
      assert.deepEqual([r.effect, r.reason_code], ['DENY', 'IDENTITY_UNVERIFIED']);
      await until('the deny alert', () => got.length > 0);
      assert.deepEqual(
        got.map((a) => a.routing_key),
        ['worker-deny'],
      );
    },
  ));

test('a permit recorded as a DENY spends nothing, so it fires no budget_warning', () =>
  withAlerts(
    `agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
  budget daily {
    max       $10
    warn_at   0.5
    on_exceed deny
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
    on     = "budget_warning"
    notify = "pagerduty://on-budget-warning"
  }
}
`,
    { CRED_PROVIDER: 'no-such-provider' },
    async (s, got) => {
      const r = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {}, cost_usd: 6 });
      assert.deepEqual([r.effect, r.reason_code], ['DENY', 'CREDENTIAL_UNAVAILABLE']);
      await until('an alert', () => got.length > 0);
      await sleep(300);
      assert.deepEqual(
        got.map((a) => a.routing_key),
        ['on-deny'],
      );
    },
  ));
