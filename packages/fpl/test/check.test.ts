import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, checkText } from './support/policy.js';
import { compile, Source } from '../src/index.js';

/** [title, policy, expected `code@line` diagnostics, optional message pattern for the first one] */
type Case = [string, string, string[], RegExp?];

const errors: Case[] = [
  ['misspelt effect', agent('  rules {\n    pemit x\n  }'), ['unknown-field@3'], /unknown field 'pemit'/],
  ['unknown agent field with suggestion', agent('  default deny\n  rate_limts "x": 1 per minute'), ['unknown-field@3'], /rate_limts/],
  ['unknown block in agent', agent('  egres { allow = ["a.com"] }'), ['unknown-block@2'], /unknown block 'egres'/],
  ['unknown top-level block', 'agnet "x" {\n}\n', ['unknown-block@1'], /unknown top-level block 'agnet'/],
  ['agent block needs a name', 'agent {\n  default deny\n}\n', ['missing-label@1']],
  [
    'duplicate agents',
    'agent "a" {\n  default deny\n}\nagent "a" {\n  default deny\n}\n',
    ['duplicate-block@4'],
    /duplicate agent "a": first declared at line 1/,
  ],
  ['duplicate runtime', 'runtime {\n  mode = "audit"\n}\nruntime {\n  mode = "audit"\n}\n', ['duplicate-block@4']],
  ['duplicate provider names', 'provider "v" {\n  type = "stdout"\n}\nprovider "v" {\n  type = "stdout"\n}\n', ['duplicate-block@4']],
  ['duplicate field', 'runtime {\n  mode = "audit"\n  mode = "enforce"\n}\n', ['duplicate-field@3']],
  ['bad runtime mode', 'runtime {\n  mode = "enforcing"\n}\n', ['invalid-value@2'], /one of enforce, audit/],
  ['runtime mode did-you-mean', 'runtime {\n  mode = "enfrce"\n}\n', ['invalid-value@2']],
  ['runtime bool', 'runtime {\n  os_tier = "yes"\n}\n', ['invalid-value@2'], /true or false/],
  ['runtime port range', 'runtime {\n  mcp_proxy_port = 70000\n}\n', ['invalid-value@2'], /port/],
  ['runtime duration', 'runtime {\n  cold_start_deny_window = "soon"\n}\n', ['invalid-value@2'], /duration/],
  ['runtime unknown field', 'runtime {\n  wal_dri = "./x"\n}\n', ['unknown-field@2'], /wal_dri/],
  ['runtime profile', 'runtime {\n  agent_enforce_profile = "strict"\n}\n', ['invalid-value@2']],
  ['default effect', agent('  default allowed'), ['invalid-value@2'], /permit, defer, deny/],
  ['budget on_exceed', agent('  budget daily {\n    max $5\n    on_exceed block\n  }'), ['invalid-value@4'], /deny, defer, audit/],
  ['budget warn_at above 1', agent('  budget daily {\n    max $5\n    warn_at 80\n  }'), ['invalid-value@4'], /fraction/],
  ['budget max must be money', agent('  budget daily {\n    max "lots"\n  }'), ['invalid-value@3']],
  ['budget max_calls whole', agent('  budget daily {\n    max_calls 2.5\n  }'), ['invalid-value@3']],
  ['budget without limit', agent('  budget daily {\n    on_exceed deny\n  }'), ['missing-field@2']],
  ['budget without id', agent('  budget {\n    max $5\n  }'), ['missing-label@2']],
  ['duplicate budget', agent('  budget daily {\n    max $5\n  }\n  budget daily {\n    max $6\n  }'), ['duplicate-block@5']],
  ['rate limit window', agent('  rate_limit "x": 5 per fortnight'), ['invalid-value@2'], /unknown rate window/],
  ['rate limit plural window', agent('  rate_limit "x": 5 per minutes'), ['invalid-value@2'], /minutes/],
  ['rate limit missing per', agent('  rate_limit "stripe/refund": 5 minute'), ['expected-token@2'], /expected 'per <window>'/],
  ['rate limit zero', agent('  rate_limit "x": 0 per minute'), ['invalid-value@2']],
  ['rate limit fraction', agent('  rate_limit "x": 1.5 per minute'), ['invalid-value@2']],
  ['rate limit empty segment', agent('  rate_limit "stripe//x": 1 per minute'), ['invalid-pattern@2'], /empty segment/],
  ['alert on value', agent('  alert {\n    on = "denied"\n    notify = "slack://#x"\n  }'), ['invalid-value@3'], /budget_warning/],
  ['alert notify scheme', agent('  alert {\n    on = "deny"\n    notify = "slak://#x"\n  }'), ['invalid-value@4'], /slack/],
  ['alert missing notify', agent('  alert {\n    on = "deny"\n  }'), ['missing-field@2']],
  ['egress URL', agent('  egress {\n    allow = ["https://api.stripe.com/v1"]\n  }'), ['invalid-value@3'], /is a URL/],
  // This threw out of the compiler (an uncaught TypeError from the URL parser), with no diagnostic.
  ['egress IPv6 zone id', agent('  egress {\n    deny = ["fe80::1%eth0"]\n  }'), ['invalid-value@3'], /zone id/],
  // Accepted before, and matched nothing: a deny that denied nothing, without a word.
  ['egress leading dot', agent('  egress {\n    deny = [".internal.corp"]\n  }'), ['invalid-value@3'], /empty label/],
  ['egress empty label', agent('  egress {\n    deny = ["evil.com.."]\n  }'), ['invalid-value@3'], /empty label/],
  ['egress wildcard empty label', agent('  egress {\n    allow = ["*..example.com"]\n  }'), ['invalid-value@3'], /empty label/],
  ['egress not a list', agent('  egress {\n    allow = "api.stripe.com"\n  }'), ['invalid-value@3'], /list of strings/],
  [
    'completion gate value',
    agent('  completion_gate {\n    require "no_pending_aprovals"\n  }'),
    ['invalid-value@3'],
    /no_pending_approvals/,
  ],
  ['enforcement os_tier belongs to runtime', agent('  enforcement {\n    os_tier = true\n  }'), ['unknown-field@3']],
  ['session duration', agent('  session {\n    max_duration = "forever"\n  }'), ['invalid-value@3']],
  ['spawn max_concurrent', agent('  spawn {\n    max_concurrent = -1\n  }'), ['invalid-value@3']],
  ['selector source', agent('  selector "role" {\n    cache = "5m"\n  }'), ['missing-field@2']],
  ['selector url', agent('  selector "role" {\n    source = "not a url"\n  }'), ['invalid-value@3']],
  ['delegate ceiling', agent('  delegate {\n    target_agent = "r"\n    ceiling = "everything"\n  }'), ['invalid-value@4']],
  ['delegate without target', agent('  delegate {\n    ttl = "5m"\n  }'), ['missing-field@2']],
  ['phase without name', agent('  phase {\n    duration = "1h"\n  }'), ['missing-label@2']],
  [
    'vault credential minting a token with no policies',
    'provider "v" {\n  type = "vault"\n}\n' + agent('  credential "db" {\n    provider = "v"\n    tools = ["db/*"]\n  }'),
    ['credential-unscoped@5'],
    /every policy of the daemon's own token/,
  ],
  [
    'credential with ttl 0, which Vault reads as its own default',
    'provider "v" {\n  type = "vault"\n}\n' +
      agent('  credential "db" {\n    provider = "v"\n    scope = ["db-readonly"]\n    ttl = "0s"\n    tools = ["db/*"]\n  }'),
    ['credential-ttl@5'],
    /has ttl 0/,
  ],
  ['provider without type', 'provider "v" {\n  addr = "x"\n}\n', ['missing-field@1']],
  ['provider unknown type', 'provider "v" {\n  type = "vualt"\n}\n', ['invalid-value@2'], /unknown provider type 'vualt'/],
  ['provider unknown field', 'provider "v" {\n  type = "vault"\n  adr = "x"\n}\n', ['unknown-field@3'], /adr/],
  ['identity unknown type', 'identity "i" {\n  type = "ldap"\n}\n', ['invalid-value@2']],
  ['provider type named like an Object method', 'provider "v" {\n  type = "toString"\n  x = 1\n}\n', ['invalid-value@2']],
  ['identity type named like an Object method', 'identity "i" {\n  type = "constructor"\n}\n', ['invalid-value@2']],
  ['trust key not 32 bytes', 'trust {\n  key "r" ed25519:AAAA\n}\n', ['invalid-trust-key@2']],
  ['trust key without registry', 'trust {\n  key ed25519:AAAA\n}\n', ['invalid-trust-key@2']],
  ['trust unknown entry', 'trust {\n  kee "r" ed25519:AAAA\n}\n', ['unknown-field@2']],
  ['rule in runtime', 'runtime {\n  permit x\n}\n', ['unknown-field@2'], /unknown field 'permit'/],
  ['rate_limit at top level', 'rate_limit "x": 1 per minute\n', ['misplaced-statement@1'], /agent/],
  ['bad regex', agent('  rules {\n    permit x if a matches "(unclosed"\n  }'), ['invalid-regex@3'], /missing closing \)/],
  ['backreference is not RE2', agent('  rules {\n    permit x if a matches "(a)\\\\1"\n  }'), ['invalid-regex@3']],
  ['lookahead is not RE2', agent('  rules {\n    permit x if a matches "(?=a)"\n  }'), ['invalid-regex@3']],
  ['matches needs a literal', agent('  rules {\n    permit x if a matches b\n  }'), ['invalid-regex@3']],
  ['in needs a list', agent('  rules {\n    permit x if a in "abc"\n  }'), ['invalid-operand@3'], /contains/],
  ['unknown time field', agent('  rules {\n    permit x if time.hours > 3\n  }'), ['unknown-variable@3'], /time.hour/],
  [
    'a weekday compared with a name',
    agent('  rules {\n    deny x if time.weekday == "saturday"\n  }'),
    ['invalid-operand@3'],
    /time.weekday is a number/,
  ],
  ['an hour compared with a string', agent('  rules {\n    permit x if time.hour >= "18"\n  }'), ['invalid-operand@3']],
  ['a weekday in a list of names', agent('  rules {\n    defer x if time.weekday in ["sat", "sun"]\n  }'), ['invalid-operand@3']],
  ['time.now compared with a number', agent('  rules {\n    deny x if time.now > 5\n  }'), ['invalid-operand@3']],
  ['scalar root has no fields', agent('  rules {\n    permit x if tool.name == "x"\n  }'), ['unknown-variable@3']],
  [
    'kms without backend',
    'provider "k" {\n  type = "kms"\n  key_arn = "arn:x"\n}\n',
    ['missing-field@1'],
    /needs backend = one of aws, gcp/,
  ],
  [
    'kms with an unknown backend',
    'provider "k" {\n  type = "kms"\n  backend = "aws-kmz"\n}\n',
    ['invalid-value@2'],
    /backend 'aws-kmz' is not one of/,
  ],
  ['tags has no fields', agent('  rules {\n    permit x if tags.first == "x"\n  }'), ['unknown-variable@3'], /'tags' has no fields/],
  ['unset env in condition', agent('  rules {\n    permit x if a == env("NOPE_NOT_SET")\n  }'), ['unset-env@3']],
  ['strict deny then permit', agent('  default deny\n  rules {\n    deny! shell/*\n    permit shell/ls\n  }'), ['strict-deny-violated@5']],
  [
    'strict deny, permit same tool',
    agent('  default deny\n  rules {\n    deny! shell reason "no"\n    permit shell if a == 1\n  }'),
    ['strict-deny-violated@5'],
  ],
  ['invalid tool pattern', agent('  rules {\n    permit a/../b\n  }'), ['invalid-pattern@3'], /'\.\.' segment/],
  ['double star inside segment', agent('  rules {\n    permit a/b**\n  }'), ['invalid-pattern@3']],
  ['method must be a verb', agent('  rules {\n    permit api/x method "GET /x"\n  }'), ['invalid-value@3']],
  ['use unknown alias', agent('  use nothing_here'), ['unknown-alias@2']],
  ['import latest', 'import "github.com/faramesh/faramesh-registry/policies/faramesh/stripe@latest"\n', ['import-unpinned@1']],
  ['import unpinned', 'import "github.com/faramesh/faramesh-registry/policies/faramesh/stripe"\n', ['import-unpinned@1']],
  ['import range', 'import "github.com/faramesh/faramesh-registry/policies/faramesh/stripe@^1.0.0"\n', ['import-unpinned@1']],
  [
    'a host compared with a port',
    agent('  rules {\n    deny db/query if host == "db.internal:5432"\n  }'),
    ['invalid-value@3'],
    /host is a host name alone, compared without port, path or userinfo: 'db.internal:5432' would never match/,
  ],
  ['a host list with a path', agent('  rules {\n    deny x if host in ["a.com", "b.com/x"]\n  }'), ['invalid-value@3']],
  ['a host with a port on the left', agent('  rules {\n    deny x if "db.internal:5432" == host\n  }'), ['invalid-value@3']],
  ['var used in condition must be scalar', agent('  var m = { a = 1 }\n  rules {\n    permit x if m == 1\n  }'), ['invalid-variable@4']],
  ['duplicate var', agent('  var a = 1\n  var a = 2'), ['duplicate-var@3']],
];

const warnings: Case[] = [
  [
    'a credential naming no provider gets a stub secret',
    'provider "v" {\n  type = "vault"\n}\n' + agent('  credential "db" {\n    path = "db/password"\n    tools = ["db/*"]\n  }'),
    ['credential-stub@5'],
    /credential "db" names no provider: its calls get a STUB secret/,
  ],
  ['rules without default', agent('  rules {\n    permit x\n  }'), ['missing-default@1']],
  [
    'a deny whose condition is a constant never applies',
    agent('  default permit\n  rules {\n    deny x if nil\n    defer y if false\n  }'),
    ['constant-condition@4', 'constant-condition@5'],
    /deny x: the condition is the constant null, so this rule never applies/,
  ],
  [
    'a condition that is true is as none',
    agent('  default deny\n  rules {\n    permit x if true\n  }'),
    ['constant-condition@4'],
    /applies to every call/,
  ],
  [
    "a phase rule for none of the phase's tools",
    agent(
      '  default deny\n  phase "freeze" {\n    duration = "48h"\n    tools = ["stripe/charge"]\n    rules {\n      deny stripe/refund\n      permit stripe/*\n    }\n  }',
    ),
    ['outside-phase-tools@7'],
    /phase "freeze": 'deny stripe\/refund' names no tool of the phase's tools \(stripe\/charge\), so it is never tried/,
  ],
  [
    'a host clause naming a misspelt var',
    agent('  default deny\n  var internal_host = "db.internal"\n  rules {\n    deny http/* host intrnal_host\n    permit http/*\n  }'),
    ['unknown-var@5'],
    /host 'intrnal_host' is not a declared var, so it is taken literally/,
  ],
  [
    'an oidc identity without keys, whose issuer cannot be discovered',
    'identity "idp" {\n  type = "oidc"\n  issuer = "idp.example"\n  audience = "faramesh"\n}\n',
    ['missing-field@1'],
    /no jwks_url or jwks_file, and its issuer is not an https:\/\/ URL to discover them from/,
  ],
  [
    'an oidc identity without keys, whose issuer is no URL at all',
    'identity "idp" {\n  type = "oidc"\n  issuer = "https://"\n  audience = "faramesh"\n}\n',
    ['missing-field@1'],
    /is not an https:\/\/ URL to discover them from/,
  ],
  [
    'an oidc identity that would take tokens issued to any application',
    'identity "idp" {\n  type = "oidc"\n  issuer = "https://idp.example"\n  jwks_file = "./jwks.json"\n}\n',
    ['missing-field@1'],
    /needs issuer and audience \(or client_id\): apply will refuse it/,
  ],
  [
    'a label scope for a worker whose default permits (the reference example)',
    agent('  delegate {\n    target_agent = "r"\n    scope = "read-only"\n  }', 'sup') + agent('  default permit', 'r'),
    ['delegate-scope@2'],
    /names no tool this policy knows/,
  ],
  [
    'a delegate scope copied as a label names no tool the worker may call',
    agent('  delegate {\n    target_agent = "r"\n    scope = "read-only"\n  }', 'sup') +
      agent('  default deny\n  rules {\n    permit web/fetch\n  }', 'r'),
    ['delegate-scope@2'],
    /delegate scope \[read-only\] names no tool agent "r" may call/,
  ],
  [
    'delegate inherits',
    agent('  delegate {\n    to = ["w"]\n    inherits = ["budget.daily"]\n  }'),
    ['unsupported@4'],
    /inherits is not available/,
  ],
  ['fleet budget', agent('  budget {\n    id = "g"\n    usd = 10\n    scope = "fleet"\n  }'), ['unsupported@5'], /fleet-wide budgets/],
  ['cost-http provider', 'provider "q" {\n  type = "cost-http"\n  url = "https://q"\n}\n', ['unsupported@2'], /cost-http is not available/],
  [
    'federated trust',
    'trust {\n  spiffe_federated "spiffe://p.example" bundle_url = "https://p.example/b"\n}\n',
    ['unsupported@2'],
    /federated SPIFFE trust domains are not available/,
  ],
  ['pkcs11 signing', 'provider "hsm" {\n  type = "pkcs11"\n  slot = 0\n}\n', ['unsupported@2'], /not available in this build/],
  [
    "postgres backend (the production guide's runtime)",
    'runtime {\n  mode = "enforce"\n  backend = "postgres"\n  postgres_url = env("FARAMESH_PG_URL")\n}\n',
    ['unsupported@3'],
    /backend = "postgres" is not available in this build.*apply will refuse it/,
  ],
  ['postgres_url alone', 'runtime {\n  postgres_url = "postgres://db/x"\n}\n', ['unsupported@2'], /postgres/],
  ['budget backend', 'runtime {\n  budget_backend = "redis"\n}\n', ['unsupported@2'], /budget_backend is not available/],
  [
    'shadowed exact rule',
    agent('  default deny\n  rules {\n    deny refund\n    permit refund if amount < 5\n  }'),
    ['unreachable-rule@5'],
    /can never match/,
  ],
  ['shadowed by glob', agent('  default deny\n  rules {\n    permit stripe/*\n    deny stripe/payouts\n  }'), ['unreachable-rule@5']],
  ['shadowed by double star', agent('  default deny\n  rules {\n    deny **\n    permit a/b/c\n  }'), ['unreachable-rule@5']],
  ['shadowed in top-level rules', 'deny x\npermit x\n', ['unreachable-rule@2']],
  [
    // The reference's multi-tenant trip wire, on a stack that verifies no principal: it never fires.
    'a rule reading principal.* on a stack that takes no claims',
    agent('  default permit\n  rules {\n    deny db/drop if principal.role != "admin"\n  }'),
    ['principal-unverified@4'],
    /deny db\/drop: principal\.role is never set on this stack/,
  ],
];

const valid: [string, string][] = [
  [
    'principal.* on a stack with an oidc identity',
    'identity "idp" {\n  type = "oidc"\n  issuer = "https://idp.example"\n  audience = "faramesh"\n}\n' +
      agent('  default deny\n  rules {\n    permit ehr/read if principal.role == "examiner"\n  }'),
  ],
  [
    'principal.* on a stack that trusts stated claims',
    'runtime {\n  trust_sdk_principal = true\n}\n' +
      agent('  default deny\n  rules {\n    permit ehr/read if principal.role == "examiner"\n  }'),
  ],
  // The daemon discovers the keys of an issuer it can fetch (https://, or http:// to this machine).
  [
    'an oidc identity whose issuer is this machine, keys by discovery',
    'identity "idp" {\n  type = "oidc"\n  issuer = "http://localhost"\n  audience = "faramesh"\n}\n',
  ],
  [
    'an oidc identity whose issuer is https in capitals, keys by discovery',
    'identity "idp" {\n  type = "oidc"\n  issuer = "HTTPS://idp.example"\n  audience = "faramesh"\n}\n',
  ],
  ['conditional rule does not shadow', agent('  default deny\n  rules {\n    permit refund if amount < 5\n    deny refund\n  }')],
  ['clauses make a rule conditional', agent('  default deny\n  rules {\n    permit api/* method GET\n    deny api/x\n  }')],
  ['glob does not cover a sibling namespace', agent('  default deny\n  rules {\n    permit stripe/*\n    deny stripe/a/b\n  }')],
  ['strict deny then unrelated permit', agent('  default deny\n  rules {\n    deny! shell/rm\n    permit shell/ls\n  }')],
  [
    'upstream dialect',
    agent(
      '  default deny\n  rules {\n    deny! shell/run when args.cmd != nil && args.cmd matches "rm -rf"\n      reason: "destructive"\n    allow shell/ls when !(a == 1) || b startsWith "x"\n    block net/*\n  }',
    ),
  ],
  ['method call spelling', agent('  default deny\n  rules {\n    permit fs/write if path.starts_with("./drafts/")\n  }')],
  ['env resolved when set', agent('  default deny\n  rules {\n    permit x if a == env("HOME")\n  }')],
  [
    "a delegate scope naming an MCP server's tools, for a worker whose default permits",
    'mcp_server "web" {\n  url = "https://mcp.example/mcp"\n}\n' +
      agent('  delegate {\n    target_agent = "w"\n    scope = ["web/*"]\n  }', 'sup') +
      agent('  default permit', 'w'),
  ],
];

describe('check: errors', () => {
  for (const [title, text, expected, message] of errors) {
    test(title, () => {
      const r = checkText(text);
      assert.deepEqual(
        r.summary.filter((s) => !s.startsWith('missing-default')),
        expected,
        `diagnostics of:\n${text}`,
      );
      if (message) assert.match(r.errors[0]?.message ?? r.warnings[0]?.message ?? '', message);
      assert.equal(r.ir, undefined, 'no IR when there are errors');
    });
  }
});

test('OS-tier settings written in the enforcement block of an agent point to runtime { }', () => {
  for (const [field, hint] of [
    ['os_tier = true', /runtime \{ os_tier = true \}/],
    ['isolation = "firecracker"', /not supported/],
    ['filesystem = "tight"', /agent_enforce_profile/],
  ] as const) {
    const r = checkText(agent(`  default deny\n  enforcement {\n    ${field}\n  }`));
    assert.deepEqual(r.summary, ['unknown-field@4'], field);
    assert.match(r.errors[0]!.hint ?? '', hint, field);
  }
});

describe('check: warnings', () => {
  for (const [title, text, expected, message] of warnings) {
    test(title, () => {
      const r = checkText(text);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.summary, expected);
      if (message) assert.match(r.warnings[0]!.message, message);
      assert.ok(r.ir, 'warnings still compile');
    });
  }
});

describe('check: valid policies', () => {
  for (const [title, text] of valid) {
    test(title, () => {
      const r = checkText(text, 'governance.fms', { env: { HOME: '/root' } });
      assert.deepEqual(r.summary, []);
      assert.ok(r.ir);
    });
  }
});

test('did-you-mean hints name the closest word', () => {
  const hint = (text: string) => checkText(text).errors[0]?.hint;
  assert.equal(hint(agent('  rate_limts "x": 1 per minute')), "did you mean 'rate_limit'?");
  assert.equal(hint(agent('  egres {\n  }')), "did you mean 'egress'?");
  assert.equal(hint('runtime {\n  mode = "enfrce"\n}\n'), "did you mean 'enforce'?");
  assert.equal(hint(agent('  budget daily {\n    max $1\n    on_exceed defr\n  }')), "did you mean 'defer'?");
  assert.equal(hint(agent('  alert {\n    on = "budget_exceded"\n    notify = "slack://#a"\n  }')), "did you mean 'budget_exceeded'?");
  assert.equal(hint(agent('  rate_limit "x": 1 per minutes')), "did you mean 'minute'?");
  assert.equal(hint(agent('  rate_limit "x": 1 per huor')), "did you mean 'hour'?");
  assert.equal(hint('agnet "x" {\n}\n'), "did you mean 'agent'?");
  assert.equal(hint(agent('  rules {\n    pemit x\n  }')), "did you mean 'permit'?");
  assert.equal(hint(agent('  rules {\n    defr x\n  }')), "did you mean 'defer'?");
  assert.equal(hint(agent('  default deny\n  pemit x')), "did you mean 'permit'?");
  assert.equal(hint('pemit x\n'), "did you mean 'permit'?");
  assert.equal(hint('runtme {\n}\n'), "did you mean 'runtime'?");
});

test('several errors are reported in one run', () => {
  const r = checkText(
    agent('  default deny\n  rules {\n    pemit a\n    permit b if (\n    permit c if a matches "("\n  }\n  rate_limit "x": 1 per eon'),
  );
  assert.deepEqual(
    r.summary.map((s) => s.split('@')[1]),
    ['4', '5', '6', '8'],
  );
  assert.equal(r.errors[1]!.code, 'expected-operand', 'the unfinished condition is reported on its own line');
});

test('a YAML rule with condition: null is reported: it would never apply', () => {
  const yaml =
    'agents:\n  - id: a\n    default: permit\n    rules:\n      - effect: deny\n        tool: shell/exec\n        condition: null\n';
  const result = compile(new Source('governance.fms.yaml', yaml));
  const found = result.diagnostics.items.filter((d) => d.code === 'constant-condition');
  assert.equal(found.length, 1, JSON.stringify(result.diagnostics.items.map((d) => `${d.code}: ${d.message}`)));
  assert.match(found[0]!.message, /deny shell\/exec: .* never applies/);
});
