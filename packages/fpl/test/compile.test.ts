import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '@faramesh/protocol';
import { agent, checkText } from './support/policy.js';
import { compile, Source } from '../src/index.js';

const policy = `runtime {
  mode = "enforce"
}

agent "support-bot" {
  default deny
  var prod_host = "API.Example.com."
  rules {
    permit search_docs
    permit stripe/refund if amount < $500 and currency in ["USD", "EUR"]
    defer  stripe/refund if amount >= $500 reason "big"
    permit api/health host prod_host method get
  }
  rate_limit "stripe/*": 10 per minute
  redact stripe/refund args: ["card.number"]
  budget daily {
    max     $500
    warn_at 0.8
  }
  budget session {
    max_calls 50
    on_exceed defer
  }
}
`;

test('rules compile with rule refs, normalised args and clauses', () => {
  const { ir, errors } = checkText(policy);
  assert.deepEqual(errors, []);
  const bot = ir!.agents[0]!;
  assert.equal(bot.default, 'deny');
  assert.deepEqual(
    bot.rules.map((r) => r.ref),
    ['governance.fms:9', 'governance.fms:10', 'governance.fms:11', 'governance.fms:12'],
  );
  assert.deepEqual(bot.rules[1]!.when, {
    op: 'and',
    args: [
      { op: '<', args: [{ var: ['args', 'amount'] }, { lit: 500 }] },
      { op: 'in', args: [{ var: ['args', 'currency'] }, { lit: ['USD', 'EUR'] }] },
    ],
  });
  assert.equal(bot.rules[2]!.reason, 'big');
  assert.equal(bot.rules[3]!.host, 'api.example.com');
  assert.equal(bot.rules[3]!.method, 'GET');
  assert.deepEqual(bot.rate_limits[0], { pattern: 'stripe/*', limit: 10, window: 'minute', window_s: 60, ref: 'governance.fms:14' });
  assert.deepEqual(
    bot.budgets.map((b) => [b.id, b.window, b.on_exceed, b.max ?? b.max_calls]),
    [
      ['daily', 'day', 'deny', 500],
      ['session', 'session', 'defer', 50],
    ],
  );
});

test('bare names and args.<name> compile identically', () => {
  const a = checkText('permit x if amount < 5\n').ir!.rules[0]!.when;
  const b = checkText('permit x if args.amount < 5\n').ir!.rules[0]!.when;
  assert.deepEqual(a, b);
});

test('request variables stay request variables', () => {
  const when = checkText('permit x if principal.groups contains "ops" and time.hour < 8 and host == "a"\n').ir!.rules[0]!.when;
  assert.doesNotMatch(JSON.stringify(when), /"var":\["args"/);
});

test('money is a number', () => {
  assert.deepEqual(checkText('permit x if a < $10.50\n').ir!.rules[0]!.when, checkText('permit x if a < 10.5\n').ir!.rules[0]!.when);
});

test('vars inline into conditions; selectors stay symbolic', () => {
  const ir = checkText(
    agent(
      '  default deny\n  var limit = 100\n  selector "user_role" {\n    source = "https://idp/role"\n  }\n  rules {\n    permit x if amount < limit and user_role == "ops"\n  }',
    ),
  ).ir!;
  assert.deepEqual(ir.agents[0]!.rules[0]!.when, {
    op: 'and',
    args: [
      { op: '<', args: [{ var: ['args', 'amount'] }, { lit: 100 }] },
      { op: '==', args: [{ selector: 'user_role', path: [] }, { lit: 'ops' }] },
    ],
  });
  assert.equal(ir.agents[0]!.selectors[0]!.on_unavailable, 'deny');
});

test('env() in provider fields stays a reference; in conditions it is resolved', () => {
  const ir = checkText(
    'provider "v" {\n  type = "vault"\n  addr = env("VAULT_ADDR")\n  mount = "kv"\n}\npermit x if a == env("WHO")\n',
    'governance.fms',
    { env: { WHO: 'me', VAULT_ADDR: 'https://v' } },
  ).ir!;
  assert.deepEqual(ir.providers[0]!.fields.addr, { $env: 'VAULT_ADDR' });
  assert.deepEqual(ir.rules[0]!.when, { op: '==', args: [{ var: ['args', 'a'] }, { lit: 'me' }] });
});

test('every construct survives compilation', () => {
  const text = agent(`  default deny
  model = "claude-sonnet-4"
  framework = "langgraph"
  version = "1.0.0"
  rules {
    permit a
  }
  egress {
    allow = ["API.Stripe.com", "*.Example.com", "bücher.de"]
    deny = ["*.internal.corp"]
  }
  model_policy {
    allow = ["claude-sonnet-4"]
  }
  session {
    max_duration = "30m"
    idle_timeout = "5m"
  }
  spawn {
    max_concurrent = 3
    allowed_types = ["analyst"]
  }
  completion_gate {
    require "no_pending_approvals"
    require "budget_under_limit"
  }
  enforcement {
    mcp_proxy_port = 8081
  }
  alert {
    on = "deny"
    notify = "slack://#sec"
  }
  delegate {
    target_agent = "researcher"
    scope = "read-only"
    ttl = "10m"
    ceiling = "permit"
  }
  phase "audit-only" {
    duration = "24h"
    next = "enforce"
    rules {
      permit stripe/charge
    }
  }
  ambient {
    max_calls_per_day = 1000
    on_exceed = "defer"
  }
  credential "stripe" {
    provider = "vault"
    path = "prod/stripe"
    ttl = "30m"
    tools = ["stripe/*"]
  }`);
  const { ir, errors } = checkText(text);
  assert.deepEqual(errors, []);
  const a = ir!.agents[0]!;
  assert.deepEqual([a.model, a.framework, a.version], ['claude-sonnet-4', 'langgraph', '1.0.0']);
  assert.deepEqual(a.egress?.allow, ['api.stripe.com', '*.example.com', 'xn--bcher-kva.de']);
  assert.deepEqual(a.egress?.deny, ['*.internal.corp']);
  assert.deepEqual(a.model_policy?.allow, ['claude-sonnet-4']);
  assert.deepEqual([a.session?.max_duration_s, a.session?.idle_timeout_s], [1800, 300]);
  assert.equal(a.spawn?.max_concurrent, 3);
  assert.deepEqual(a.completion_gate?.require, ['no_pending_approvals', 'budget_under_limit']);
  assert.deepEqual(a.enforcement, { mcp_proxy_port: 8081 });
  assert.deepEqual(
    a.alerts.map((x) => [x.on, x.notify]),
    [['deny', 'slack://#sec']],
  );
  assert.deepEqual([a.delegates[0]!.targets, a.delegates[0]!.ttl_s, a.delegates[0]!.ceiling], [['researcher'], 600, 'permit']);
  assert.deepEqual(
    [a.phases[0]!.name, a.phases[0]!.duration_s, a.phases[0]!.next, a.phases[0]!.rules.length],
    ['audit-only', 86400, 'enforce', 1],
  );
  assert.deepEqual(a.ambient, { max_calls_per_day: 1000, on_exceed: 'defer' });
  assert.deepEqual(
    [a.credentials[0]!.id, a.credentials[0]!.provider, a.credentials[0]!.ttl_s, a.credentials[0]!.tools],
    ['stripe', 'vault', 1800, ['stripe/*']],
  );
});

test('every agent is kept, in source order', () => {
  const ir = checkText('agent "zeta" {\n  default deny\n}\nagent "alpha" {\n  default permit\n}\n').ir!;
  assert.deepEqual(
    ir.agents.map((a) => [a.id, a.default]),
    [
      ['zeta', 'deny'],
      ['alpha', 'permit'],
    ],
  );
});

test('compilation is deterministic: same source, byte-identical IR and version', () => {
  const a = checkText(policy);
  const b = checkText(policy);
  assert.equal(canonicalJson(a.ir), canonicalJson(b.ir));
  assert.equal(a.policyVersion, b.policyVersion);
  assert.match(a.policyVersion!, /^[0-9a-f]{64}$/);
});

test('policy_version changes when meaning changes', () => {
  assert.notEqual(checkText(policy).policyVersion, checkText(policy.replace('$500 and', '$501 and')).policyVersion);
});

test('flat top-level rules compile', () => {
  const ir = checkText('permit search_docs\ndefer  send_email\ndeny   stripe/payouts\n').ir!;
  assert.deepEqual(
    ir.rules.map((r) => [r.effect, r.tool, r.ref]),
    [
      ['permit', 'search_docs', 'governance.fms:1'],
      ['defer', 'send_email', 'governance.fms:2'],
      ['deny', 'stripe/payouts', 'governance.fms:3'],
    ],
  );
});

test('tool patterns are NFC-normalised', () => {
  const decomposed = 'e\u0301crire';
  assert.equal(checkText(`permit ${decomposed}\n`).ir!.rules[0]!.tool, '\u00e9crire');
});

test('pack blocks contribute agents and rules', () => {
  const ir = checkText('pack "acme" {\n  version = "1.0.0"\n  agent "payments-bot" {\n    default deny\n  }\n  permit x\n}\n').ir!;
  assert.deepEqual(
    ir.packs.map((p) => [p.name, p.version]),
    [['acme', '1.0.0']],
  );
  assert.deepEqual(
    ir.agents.map((a) => a.id),
    ['payments-bot'],
  );
  assert.equal(ir.rules.length, 1);
});

test('cost declarations compile, print canonically, and load from YAML alike', async () => {
  const { parse } = await import('../src/syntax/parser.js');
  const { print } = await import('../src/syntax/printer.js');
  const { Source } = await import('../src/syntax/source.js');
  const { compile } = await import('../src/compile.js');
  const { stripPositions } = await import('../src/ir.js');
  const text = agent('  default deny\n  cost "stripe/*":   $0.02\n  cost send_email: 0.001');
  const ir = checkText(text).ir!;
  assert.deepEqual(ir.agents[0]!.costs, [
    { pattern: 'stripe/*', usd: 0.02, ref: 'governance.fms:3' },
    { pattern: 'send_email', usd: 0.001, ref: 'governance.fms:4' },
  ]);
  assert.match(print(parse(new Source('governance.fms', text)).file), /\n {2}cost "stripe\/\*": \$0\.02\n {2}cost "send_email": 0\.001\n/);
  const yaml =
    'agent:\n  - id: bot\n    default: deny\n    costs:\n      - { pattern: "stripe/*", usd: 0.02 }\n      - { pattern: send_email, usd: 0.001 }\n';
  assert.deepEqual(stripPositions(compile(new Source('governance.fms.yaml', yaml), { env: {} }).ir), stripPositions(ir));
  assert.deepEqual(checkText('cost "x": $1\n').summary, ['misplaced-statement@1']);
  assert.deepEqual(checkText(agent('  cost "x": "free"')).summary, ['expected-token@2']);
});

test('an IPv6 address in egress or a host clause may be written without brackets, and is that address', () => {
  const text = `agent "a" {
  default deny
  rules {
    deny http/get host "2001:db8::1234"
    permit http/*
  }
  egress {
    allow = ["::1", "[fd00::abcd]"]
    deny  = ["2001:DB8::1234"]
  }
}
`;
  const result = compile(new Source('governance.fms', text));
  assert.equal(result.diagnostics.errorCount, 0, result.diagnostics.items.map((d) => d.message).join('\n'));
  const a = result.ir!.agents[0]!;
  assert.deepEqual(a.egress?.allow, ['[::1]', '[fd00::abcd]']);
  assert.deepEqual(a.egress?.deny, ['[2001:db8::1234]'], 'the address written, not 2001:db8:: (its last group read as a port)');
  assert.equal(a.rules[0]!.host, '[2001:db8::1234]');
});
