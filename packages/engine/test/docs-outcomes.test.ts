/**
 * Outcomes the reference documentation states, checked against the documentation's own policies
 * (the fixtures extracted into packages/fpl/test/fixtures/docs).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { DecisionRequest } from '@faramesh/protocol';
import { outcome, policy, Session } from './support.js';

const docs = (name: string) =>
  readFileSync(new URL(`../../../fpl/test/fixtures/docs/${name}`, import.meta.url), 'utf8').replace(/^import .*$/gm, '');

type Call = Partial<DecisionRequest> & { tool: string };
/** [what the docs say, call, expected `EFFECT[/CODE]`, optional rule line] */
type Row = [string, Call, string, number?];

function check(file: string, agentId: string, rows: Row[], prepare?: (s: Session) => void): void {
  describe(file, () => {
    for (const [said, call, expected, line] of rows) {
      test(said, () => {
        const s = new Session(policy(docs(file)));
        prepare?.(s);
        const d = s.call(call, agentId);
        assert.equal(outcome(d), expected);
        if (line !== undefined) assert.equal(d.rule_ref, `governance.fms:${line}`);
      });
    }
  });
}

// concepts/enforcement.md: the worked example walks stripe/refund({amount: 80, card_number}) to PERMIT,
// with card_number masked.
check('concepts__enforcement-L19.fms', 'support-bot', [
  ['refund of $80 permits (first rule)', { tool: 'stripe/refund', args: { amount: 80, card_number: '4242' } }, 'PERMIT', 4],
  ['refund of $500+ defers for a human', { tool: 'stripe/refund', args: { amount: 800 } }, 'DEFER/POLICY_DEFER', 5],
  ['payouts are denied', { tool: 'stripe/payouts', args: {} }, 'DENY/POLICY_DENY', 6],
]);
test('concepts/enforcement.md: card_number is masked for recording', () => {
  const d = new Session(policy(docs('concepts__enforcement-L19.fms'))).call(
    { tool: 'stripe/refund', args: { amount: 80, card_number: '4242' } },
    'support-bot',
  );
  assert.deepEqual(d.redacted_args, { amount: 80, card_number: '[REDACTED]' });
});

// fpl.md, "what this policy says, in plain English".
check('fpl-L15.fms', 'support-bot', [
  ['it may search docs', { tool: 'search_docs' }, 'PERMIT'],
  ['refunds under $500 run directly', { tool: 'stripe/refund', args: { amount: 499 } }, 'PERMIT'],
  ['refunds of $500+ wait for a human', { tool: 'stripe/refund', args: { amount: 500 } }, 'DEFER/POLICY_DEFER'],
  ['payouts are flat-out denied', { tool: 'stripe/payouts' }, 'DENY/POLICY_DENY'],
  ['it denies everything by default', { tool: 'shell/exec' }, 'DENY/POLICY_DENY'],
  [
    'it can only talk to Stripe and the docs site',
    { tool: 'search_docs', args: { url: 'https://evil.example.net/x' } },
    'DENY/EGRESS_DENIED',
  ],
  ['Stripe itself is reachable', { tool: 'search_docs', args: { url: 'https://api.stripe.com/v1' } }, 'PERMIT'],
]);
test('fpl.md: Stripe calls are rate-limited to 10/minute', () => {
  const s = new Session(policy(docs('fpl-L15.fms')));
  for (let i = 0; i < 10; i++) assert.equal(s.call({ tool: 'stripe/refund', args: { amount: 1 } }, 'support-bot').effect, 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'stripe/refund', args: { amount: 1 } }, 'support-bot')), 'DENY/RATE_EXCEEDED');
});
test('fpl.md: at 80% of the $500 daily budget a warning; at 100% new charges defer; every denial alerts #sec-alerts', () => {
  const s = new Session(policy(docs('fpl-L15.fms')));
  assert.deepEqual(s.call({ tool: 'stripe/refund', args: { amount: 1 }, cost_usd: 390 }, 'support-bot').signals, []);
  assert.equal(s.call({ tool: 'stripe/refund', args: { amount: 1 }, cost_usd: 20 }, 'support-bot').signals[0]?.code, 'BUDGET_WARNING');
  assert.equal(outcome(s.call({ tool: 'stripe/refund', args: { amount: 1 }, cost_usd: 100 }, 'support-bot')), 'DEFER/BUDGET_EXCEEDED');
  assert.deepEqual(s.call({ tool: 'stripe/payouts' }, 'support-bot').alerts, [{ on: 'deny', notify: 'slack://#sec-alerts' }]);
});

// (cli/test.md's refunds fixture is examples/support-stack/tests/refunds.fmtest.json, run by the CLI tests.)
// guides/your-first-policy.md: the full policy at the end of the guide.
check('guides__your-first-policy-L162.fms', 'support-bot', [
  ['refunds under $25 run', { tool: 'refund', args: { amount: 20 } }, 'PERMIT'],
  ['refunds under $500 need a human', { tool: 'refund', args: { amount: 200 } }, 'DEFER/POLICY_DEFER'],
  ['larger refunds are denied, with the reason', { tool: 'refund', args: { amount: 600 } }, 'DENY/POLICY_DENY'],
  ['email inside example.com is sent', { tool: 'send_email', args: { to: 'a@example.com' } }, 'PERMIT'],
  ['external email is refused', { tool: 'send_email', args: { to: 'a@gmail.com' } }, 'DENY/POLICY_DENY'],
  ['admin tools never run', { tool: 'admin/delete_user' }, 'DENY/POLICY_DENY'],
]);

// cli/explain.md: amount 8000 walks past the permit (< $500) and the defer (< $5000) to the deny.
test('cli/explain.md: a refund of 8000 lands on the flat deny', () => {
  const p = policy(
    'agent "support-bot" {\n  default deny\n  rules {\n    permit stripe/refund if amount < $500\n    defer  stripe/refund if amount < $5000\n    deny   stripe/refund reason "refunds over $5000 require platform team"\n  }\n}\n',
  );
  const d = new Session(p).call({ tool: 'stripe/refund', args: { amount: 8000, card_number: '4242' } }, 'support-bot');
  assert.equal(outcome(d), 'DENY/POLICY_DENY');
  assert.equal(d.human_message, 'refunds over $5000 require platform team');
  assert.equal(d.rule_ref, 'governance.fms:6');
});

// errors.md: each payload's shape.
test('errors.md: RATE_EXCEEDED carries retry_after; BUDGET_EXCEEDED carries budget_id and budget_reset', () => {
  const p = policy(
    'agent "a" {\n  default deny\n  rules {\n    permit stripe/charge\n  }\n  rate_limit "stripe/charge": 10 per minute\n  budget daily {\n    max $500\n    on_exceed deny\n  }\n}\n',
  );
  const s = new Session(p);
  for (let i = 0; i < 10; i++) s.call({ tool: 'stripe/charge' }, 'a');
  const rate = s.call({ tool: 'stripe/charge' }, 'a');
  assert.equal(rate.code, 'RATE_EXCEEDED');
  assert.equal(rate.human_message, 'denied: stripe/charge rate limit (10/minute) exceeded');
  assert.equal(rate.resolution?.type, 'retry_after');
  const b = new Session(p).call({ tool: 'stripe/charge', cost_usd: 501 }, 'a');
  assert.equal(b.code, 'BUDGET_EXCEEDED');
  assert.equal(b.budget_id, 'daily');
  assert.deepEqual(b.resolution, { type: 'budget_reset', resets_at: '2026-05-18T00:00:00Z' });
});
test('errors.md: EGRESS_DENIED and MODEL_DENIED resolutions name their rule', () => {
  const p = policy(
    'agent "a" {\n  default permit\n  egress {\n    allow = ["api.stripe.com"]\n  }\n  model_policy {\n    allow = ["claude-sonnet-4"]\n  }\n}\n',
  );
  const e = new Session(p).call({ tool: 'http/get', args: { url: 'https://evil.example.com' } }, 'a');
  assert.deepEqual(
    [e.code, e.human_message, e.resolution],
    ['EGRESS_DENIED', "denied: host 'evil.example.com' not in egress allow list", { type: 'rule_block', rule_id: 'egress' }],
  );
  const m = new Session(p).call({ tool: 'x', model: 'gpt-3.5-turbo' }, 'a');
  assert.deepEqual(
    [m.code, m.human_message, m.resolution],
    ['MODEL_DENIED', "denied: model 'gpt-3.5-turbo' is not permitted", { type: 'rule_block', rule_id: 'model_policy' }],
  );
});

// use-cases.md.
check('use-cases-L15.fms', 'payments-bot', [
  ['charges under $500 run', { tool: 'stripe/charge', args: { amount: 100 } }, 'PERMIT'],
  ['charges of $500+ defer', { tool: 'stripe/charge', args: { amount: 900 } }, 'DEFER/POLICY_DEFER'],
  ['customer reads with GET are allowed', { tool: 'stripe/customers/list', http: { method: 'GET' } }, 'PERMIT'],
  ['customer writes are not', { tool: 'stripe/customers/list', http: { method: 'POST' } }, 'DENY/POLICY_DENY'],
]);
check('use-cases-L181.fms', 'analyst-bot', [
  ['SELECT without PII runs', { tool: 'sql/query', args: { statement: 'SELECT 1', tables: { contains_pii: false } } }, 'PERMIT'],
  [
    'PII queries need a human',
    { tool: 'sql/query', args: { statement: 'SELECT ssn', tables: { contains_pii: true } } },
    'DEFER/POLICY_DEFER',
  ],
  ['DROP is refused (case-insensitive)', { tool: 'sql/query', args: { statement: 'drop table users' } }, 'DENY/POLICY_DENY'],
]);
check('use-cases-L211.fms', 'acme/support-bot', [
  ['same-tenant reads run', { tool: 'crm/customers/read', args: { customer: { tenant: 't1' } }, principal: { tenant: 't1' } }, 'PERMIT'],
  [
    'cross-tenant reads are denied',
    { tool: 'crm/customers/read', args: { customer: { tenant: 't2' } }, principal: { tenant: 't1' } },
    'DENY/POLICY_DENY',
  ],
  [
    'without a principal, nothing matches by accident',
    { tool: 'crm/customers/read', args: { customer: { tenant: 't1' } } },
    'DENY/POLICY_DENY',
  ],
]);
