import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, Source, stripPositions, type PolicyIR } from '@faramesh/fpl';
import { diffPolicies } from '../src/commands/plan/diff.js';
import { ruleText } from '../src/rule-text.js';

function ir(text: string): PolicyIR {
  const r = compile(new Source('governance.fms', text), { env: {} });
  if (!r.ir) throw new Error(r.diagnostics.items.map((d) => d.message).join('\n'));
  return r.ir;
}

const agent = (rules: string, extra = '') => `agent "bot" {\n  default deny\n${extra}  rules {\n${rules}\n  }\n}\n`;

test('a rule written back from the IR compiles to the same rule', () => {
  const rules = [
    'permit a if args.x > 5 and args.y == "q"',
    'deny b if not (args.x > 2) or time.hour == 3',
    'defer c if (args.a == 1 or args.b == 2) and args.c != nil',
    'permit d if args.to matches "@example\\\\.com$" and args.tags contains "x"',
    'permit e if args.env in ["dev", "staging"] and args.ok == true',
    'deny f if not (args.a startsWith "/etc" or args.a endsWith ".key")',
    'permit g if args.n <= -1.5 or args.n >= 1e3',
    'deny h reason "quote \\" and backslash \\\\"',
    'permit http/get host "api.example.com" method GET path "/v1/*"',
    'deny! i if principal.groups contains "contractors"',
  ];
  const compiled = ir(agent(rules.map((r) => `    ${r}`).join('\n'))).agents[0]!.rules;
  const rewritten = ir(agent(compiled.map((r) => `    ${ruleText(r)}`).join('\n'))).agents[0]!.rules;
  assert.deepEqual(stripPositions(rewritten), stripPositions(compiled));
  assert.equal(ruleText(compiled[1]!), 'deny   b if not (args.x > 2) or time.hour == 3');
  assert.equal(ruleText(compiled[2]!), 'defer  c if (args.a == 1 or args.b == 2) and args.c != nil');
});

test('the diff matches items by name, rules by an edit script, and reports settings key by key', () => {
  const before = ir(`runtime {
  wal_dir = "./wal"
  os_tier = false
}
provider "vault" {
  type = "vault"
  addr = "http://127.0.0.1:8200"
}
${agent('    permit a\n    permit b\n    deny   c\n    permit d', '  budget daily {\n    max $500\n    on_exceed deny\n  }\n  rate_limit "stripe/*": 10 per minute\n')}
agent "old" {
  rules {
    permit x
  }
}
`);
  const after = ir(`runtime {
  wal_dir = "./wal"
  os_tier = true
}
provider "vault" {
  type = "vault"
  addr = "https://vault.internal:8200"
}
${agent('    permit a\n    permit new\n    permit b\n    defer  c\n    permit d', '  budget daily {\n    max $1000\n    on_exceed deny\n  }\n  rate_limit "stripe/*": 20 per minute\n')}
agent "fresh" {
  rules {
    permit y
  }
}
`);
  const lines = diffPolicies(before, after).map((e) =>
    [e.change, e.kind, e.agent ?? '', e.subject, e.old ?? '', e.new ?? ''].join(' | ').replace(/( \| )+$/, ''),
  );
  assert.deepEqual(lines, [
    'removed | agent |  | "old"',
    'added | rule | bot | permit new',
    'changed | rule | bot | c | deny   c | defer  c',
    'changed | rate_limit | bot | stripe/* | "stripe/*": 10 per minute | "stripe/*": 20 per minute',
    'changed | budget | bot | daily.max | 500 | 1000',
    'added | agent |  | "fresh" (1 rule)',
    'added | rule | fresh | permit y',
    'changed | provider |  | vault.addr | "http://127.0.0.1:8200" | "https://vault.internal:8200"',
    'changed | runtime |  | os_tier | false | true',
  ]);
  assert.deepEqual(diffPolicies(after, after), [], 'a policy against itself');
  const reordered = ir(agent('    permit b\n    permit a'));
  assert.deepEqual(
    diffPolicies(ir(agent('    permit a\n    permit b')), reordered).map((e) => `${e.change} ${e.subject}`),
    ['added permit b', 'removed permit b'],
    'a moved rule is removed in one place and added in another',
  );
});

test('the diff sees a second limit on one pattern, a new notify, a delegate ceiling; numbers in exponent form write back as FPL', () => {
  const twice = ir(agent('    permit a', '  rate_limit "a": 3 per minute\n  rate_limit "a": 5 per minute\n'));
  const once = ir(agent('    permit a', '  rate_limit "a": 5 per minute\n'));
  assert.deepEqual(
    diffPolicies(twice, once).map((e) => `${e.change} ${e.subject}`),
    ['removed "a": 5 per minute', 'changed a'],
    'one of two limits on "a" removed is a change, not silence',
  );
  const notified = ir(agent('    permit a notify "slack://ops"'));
  assert.deepEqual(
    diffPolicies(ir(agent('    permit a')), notified).map((e) => [e.old, e.new]),
    [['permit a', 'permit a notify "slack://ops"']],
  );
  const grant = (ceiling: string) =>
    ir(`${agent('    permit a', `  delegate {\n    to      = ["w"]\n    ceiling = "${ceiling}"\n  }\n`)}agent "w" {\n  default deny\n}\n`);
  assert.deepEqual(
    diffPolicies(grant('permit'), grant('defer')).map((e) => [e.subject, e.old, e.new]),
    [['w.ceiling', '"permit"', '"defer"']],
  );
  const big = ir(agent('    permit n if args.n > 1.5e-21 and args.m < -2.5e-7'));
  assert.equal(ruleText(big.agents[0]!.rules[0]!), 'permit n if args.n > 1.5e-21 and args.m < -2.5e-7');
  assert.deepEqual(
    stripPositions(ir(agent(`    ${ruleText(big.agents[0]!.rules[0]!)}`)).agents[0]!.rules),
    stripPositions(big.agents[0]!.rules),
  );
});

test('an import is shown by its path, which holds its version once', () => {
  const withImport = (version: string): PolicyIR => ({
    ...ir(agent('    permit a')),
    imports: [
      {
        path: `github.com/acme/catalog/policies/acme/refunds@${version}`,
        alias: 'refunds',
        kind: 'policies',
        version,
        ref: 'governance.fms:1',
      },
    ],
  });
  assert.deepEqual(
    diffPolicies(withImport('1.0.0'), withImport('1.1.0')).map((e) => `${e.change} ${e.kind} ${e.subject}`),
    [
      'removed import github.com/acme/catalog/policies/acme/refunds@1.0.0',
      'added import github.com/acme/catalog/policies/acme/refunds@1.1.0',
    ],
  );
});

test('a change the item text does not show is diffed field by field, not shown as old = new', () => {
  const keyA = 'bStrP1bL37crA7USXKYmIbuzXx/KtpFJzl5IFhnSZ7o=';
  const keyB = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
  const pinned = (key: string) => ir(`trust {\n  key "github.com/faramesh/faramesh-registry" ed25519:${key}\n}\n${agent('    permit a')}`);
  const entries = diffPolicies(pinned(keyA), pinned(keyB));
  assert.deepEqual(
    entries.map((e) => `${e.change} ${e.kind} ${e.subject}`),
    ['changed trust key github.com/faramesh/faramesh-registry.public_key_b64'],
  );
  assert.equal(entries[0]!.old, `"${keyA}"`);
  assert.equal(entries[0]!.new, `"${keyB}"`);

  // The same import path, re-published bytes (its lock entry removed and checked again).
  const withDigest = (sha256: string): PolicyIR => ({
    ...ir(agent('    permit a')),
    imports: [
      { path: 'github.com/acme/catalog/policies/acme/refunds@1.0.0', kind: 'policies', version: '1.0.0', sha256, ref: 'governance.fms:1' },
    ],
  });
  const imports = diffPolicies(withDigest('a'.repeat(64)), withDigest('b'.repeat(64)));
  assert.deepEqual(
    imports.map((e) => [e.subject, e.old, e.new]),
    [['github.com/acme/catalog/policies/acme/refunds@1.0.0.sha256', `"${'a'.repeat(64)}"`, `"${'b'.repeat(64)}"`]],
  );
  for (const e of [...entries, ...imports]) assert.notEqual(e.old, e.new);
});
