import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, emptyState, laterStageKey, ruleOutcome, ruleStageKey, type RuleOutcome } from '../src/index.js';
import { agent, policy, T0 } from './support.js';

const at = (tool: string, agentId = 'bot', time_ms = T0) => ({ agent_id: agentId, tool, time_ms });

test('ruleOutcome: an unconditional rule decides, naming itself; a condition on arguments leaves the effects it could have', () => {
  const p = policy(
    agent(`  rules {
    permit search_docs
    permit send_email if args.to matches "@example\\\\.com$"
    defer  send_email
    deny   stripe/payouts reason "platform team only"
  }`),
  );
  assert.deepEqual(ruleOutcome(p, at('search_docs')), { kind: 'decided', effect: 'PERMIT', rule_ref: 'governance.fms:4' });
  assert.deepEqual(ruleOutcome(p, at('send_email')), { kind: 'depends', effects: ['PERMIT', 'DEFER'], on: ['args.to'] });
  assert.deepEqual(ruleOutcome(p, at('stripe/payouts')), { kind: 'decided', effect: 'DENY', rule_ref: 'governance.fms:7' });
  assert.deepEqual(ruleOutcome(p, at('unknown/tool')), { kind: 'decided', effect: 'DENY' }, 'the default');
  assert.deepEqual(ruleOutcome(p, at('search_docs', 'nobody')), { kind: 'decided', effect: 'DENY' }, 'an undeclared agent');
  assert.deepEqual(ruleOutcome(p, at('a//b')), { kind: 'decided', effect: 'DENY' }, 'a malformed tool id');
});

test('ruleOutcome: conditional rules with the effect of the rule after them decide it anyway; time conditions read the record time', () => {
  const p = policy(
    agent(`  rules {
    defer  deploy if args.env == "prod"
    defer  deploy
    permit night if time.hour >= 22 or args.urgent == true
    deny   night
    deny   weekday if time.weekday > 7 and args.x == 1
    permit weekday
  }`),
  );
  assert.deepEqual(ruleOutcome(p, at('deploy')), { kind: 'decided', effect: 'DEFER' }, 'either rule defers: no single rule to name');
  const late = Date.parse('2026-05-17T23:00:00Z');
  assert.deepEqual(ruleOutcome(p, at('night', 'bot', late)), { kind: 'decided', effect: 'PERMIT', rule_ref: 'governance.fms:6' });
  assert.deepEqual(ruleOutcome(p, at('night')), { kind: 'depends', effects: ['PERMIT', 'DENY'], on: ['args.urgent'] }, 'at 10:00');
  assert.deepEqual(ruleOutcome(p, at('weekday')), { kind: 'decided', effect: 'PERMIT', rule_ref: 'governance.fms:9' });
});

test('ruleOutcome: HTTP clauses, selectors and phases are not in the log, so they leave the choice open', () => {
  const p = policy(`agent "bot" {
  default deny
  selector "role" {
    source         = "http://127.0.0.1:9/role"
    on_unavailable = "defer"
  }
  phase "trial" {
    duration = "1h"
    permit beta/*
  }
  rules {
    permit http/get host "api.example.com"
    permit admin if role.value == "admin"
    deny   beta/x
  }
}
`);
  assert.deepEqual(ruleOutcome(p, at('http/get')), { kind: 'depends', effects: ['PERMIT', 'DENY'], on: ['host clause'] });
  assert.deepEqual(ruleOutcome(p, at('admin')), { kind: 'depends', effects: ['PERMIT', 'DEFER', 'DENY'], on: ['selector role'] });
  assert.deepEqual(ruleOutcome(p, at('beta/x')), { kind: 'depends', effects: ['PERMIT', 'DENY'], on: ['phase "trial"'] });
});

test('ruleOutcome is sound: whatever the arguments, decide() lands on one of the effects it allows', () => {
  const p = policy(
    agent(`  rules {
    permit t if args.a > 5 and args.b == "x"
    deny   t if not (args.a > 2) or time.hour == 3
    defer  t if args.b in ["y", "z"]
    permit u if time.hour < 12 and args.a < 3
    defer  u if time.hour >= 12
    deny!  v if args.b startsWith "q"
    defer  v
  }`),
  );
  const values = [undefined, 0, 1, 3, 6, 'x', 'y', 'q1', null, true];
  let random = 7;
  const pick = () => values[(random = (random * 1103515245 + 12345) % 2 ** 31) % values.length];
  for (let i = 0; i < 2000; i++) {
    const tool = ['t', 'u', 'v', 'w'][i % 4]!;
    const time = T0 + (i % 24) * 3_600_000;
    const args: Record<string, unknown> = {};
    for (const k of ['a', 'b']) {
      const v = pick();
      if (v !== undefined) args[k] = v;
    }
    const real = decide(p, { agent_id: 'bot', tool, args }, emptyState(), { nowMs: time }).decision.effect;
    const o: RuleOutcome = ruleOutcome(p, at(tool, 'bot', time));
    const allowed = o.kind === 'decided' ? [o.effect] : o.effects;
    assert.ok(allowed.includes(real), `${tool} ${JSON.stringify(args)} at ${new Date(time).toISOString()}: ${real} not in ${allowed}`);
  }
});

test('ruleStageKey: equal when the rules a call could meet are the same, whatever else changed', () => {
  const base = policy(agent('  rules {\n    permit a\n    deny b if args.x == 1\n    permit b\n  }'));
  const moved = policy(agent('  rules {\n    permit c\n\n    deny b if args.x == 1 reason "no"\n    permit b\n    permit a\n  }'));
  const tighter = policy(agent('  rules {\n    deny b if args.x >= 1\n    permit b\n  }'));
  const key = (p: typeof base, tool: string) => ruleStageKey(p, 'bot', tool);
  assert.equal(key(base, 'b'), key(moved, 'b'), 'positions, reasons and other tools do not count');
  assert.notEqual(key(base, 'b'), key(tighter, 'b'));
  assert.equal(key(base, 'a'), key(moved, 'a'));
  assert.notEqual(key(base, 'a'), key(tighter, 'a'), 'a removed rule');
  assert.notEqual(key(base, 'a'), key(policy('agent "bot" {\n  default permit\n  rules {\n    permit a\n  }\n}\n'), 'a'), 'the default');
  assert.equal(key(base, 'a'), key(base, 'a'));
  assert.equal(ruleStageKey(base, 'nobody', 'a'), 'refused');
});

test('ruleOutcome caps a delegated call at the grants along its chain, and a missing grant denies', () => {
  const p = policy(`agent "boss" {
  default deny
  delegate {
    to      = ["worker"]
    ceiling = "defer"
  }
  delegate {
    to  = ["temp"]
    ttl = "10m"
  }
}
agent "worker" {
  default deny
  rules {
    permit search
  }
}
agent "temp" {
  default deny
  rules {
    permit search
  }
}
`);
  const via = (agentId: string, chain: string[]) => ruleOutcome(p, { ...at('search', agentId), delegation_chain: chain });
  assert.deepEqual(via('worker', []), { kind: 'decided', effect: 'PERMIT', rule_ref: 'governance.fms:15' });
  assert.deepEqual(via('worker', ['boss']), { kind: 'decided', effect: 'DEFER' }, 'capped at the ceiling');
  assert.deepEqual(via('worker', ['temp']), { kind: 'decided', effect: 'DENY' }, 'no grant from temp');
  assert.deepEqual(via('temp', ['boss']), { kind: 'depends', effects: ['PERMIT', 'DENY'], on: ['delegation ttl'] });
  const real = decide(p, { agent_id: 'worker', tool: 'search', args: {}, delegation_chain: [{ agent_id: 'boss' }] }, emptyState(), {
    nowMs: T0,
  });
  assert.equal(real.decision.effect, 'DEFER');
  const open = policy(
    `agent "boss" {\n  delegate {\n    to = ["worker"]\n  }\n}\nagent "worker" {\n  rules {\n    permit search\n  }\n}\n`,
  );
  assert.notEqual(
    ruleStageKey(open, 'worker', 'search', ['boss']),
    ruleStageKey(p, 'worker', 'search', ['boss']),
    'the grants count in the key',
  );
});

test("ruleOutcome denies a delegated call whose tool is outside a grant's scope, as decide() does", () => {
  const p = policy(`agent "boss" {
  default deny
  delegate {
    to    = ["worker"]
    scope = ["web/*"]
  }
}
agent "worker" {
  default deny
  rules {
    permit web/fetch
    permit docs/read
  }
}
`);
  const via = (tool: string) => ruleOutcome(p, { ...at(tool, 'worker'), delegation_chain: ['boss'] });
  const real = (tool: string) =>
    decide(p, { agent_id: 'worker', tool, args: {}, delegation_chain: [{ agent_id: 'boss' }] }, emptyState(), { nowMs: T0 }).decision
      .effect;
  assert.equal(real('docs/read'), 'DENY');
  assert.deepEqual(via('docs/read'), { kind: 'decided', effect: 'DENY' }, 'outside the scope');
  assert.equal(real('web/fetch'), 'PERMIT');
  assert.deepEqual(via('web/fetch'), { kind: 'decided', effect: 'PERMIT', rule_ref: 'governance.fms:11' }, 'inside the scope');
});

test('ruleStageKey sees where principal claims come from, for a rule that reads them', () => {
  const rules = `agent "bot" {\n  default deny\n  rules {\n    permit admin if principal.role == "admin"\n    permit search\n  }\n}\n`;
  const trusting = policy(`runtime {\n  trust_sdk_principal = true\n}\n${rules}`);
  const strict = policy(rules);
  assert.notEqual(ruleStageKey(trusting, 'bot', 'admin'), ruleStageKey(strict, 'bot', 'admin'), 'claims dropped now: admin may deny');
  assert.equal(ruleStageKey(trusting, 'bot', 'search'), ruleStageKey(strict, 'bot', 'search'), 'search reads no claims');
});

test('the keys see a selector cache, and everything after the rules: limits, budgets, egress', () => {
  const selector = (cache: string) =>
    policy(
      agent(
        `  selector "role" {\n    source = "http://127.0.0.1:9/r"\n${cache}    on_unavailable = "deny"\n  }\n  rules {\n    permit admin if role.value == "admin"\n  }`,
      ),
    );
  assert.notEqual(ruleStageKey(selector(''), 'bot', 'admin'), ruleStageKey(selector('    cache = "60s"\n'), 'bot', 'admin'));
  const base = policy(agent('  rules {\n    permit search\n  }\n  rate_limit "search": 3 per minute'));
  const unlimited = policy(agent('  rules {\n    permit search\n  }'));
  const budgeted = policy(
    agent('  rules {\n    permit search\n  }\n  rate_limit "search": 3 per minute\n  budget daily {\n    max $5\n    on_exceed deny\n  }'),
  );
  assert.equal(ruleStageKey(base, 'bot', 'search'), ruleStageKey(unlimited, 'bot', 'search'));
  assert.notEqual(laterStageKey(base, 'bot', 'search'), laterStageKey(unlimited, 'bot', 'search'));
  assert.notEqual(laterStageKey(base, 'bot', 'search'), laterStageKey(budgeted, 'bot', 'search'));
  assert.equal(laterStageKey(base, 'bot', 'other'), laterStageKey(unlimited, 'bot', 'other'), 'a limit on another tool does not count');
});
