import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlockNode, ExprNode, RuleNode } from '../src/syntax/ast.js';
import { parse } from '../src/syntax/parser.js';
import { valueText } from '../src/syntax/printer.js';
import { Source } from '../src/syntax/source.js';

function parsed(text: string) {
  const r = parse(new Source('governance.fms', text));
  return { file: r.file, codes: r.diagnostics.items.map((d) => `${d.code}@${d.source.lineOf(d.span.start)}`) };
}

function rule(text: string): RuleNode {
  const { file, codes } = parsed(text);
  assert.deepEqual(codes, [], `no diagnostics for ${text}`);
  const r = file.items[0];
  assert.equal(r?.kind, 'Rule');
  return r as RuleNode;
}

/** Fully parenthesised rendering of a condition, to assert precedence. */
function shape(e: ExprNode): string {
  switch (e.kind) {
    case 'Binary':
      return `(${shape(e.left)} ${e.op} ${shape(e.right)})`;
    case 'Not':
      return `(not ${shape(e.operand)})`;
    case 'Paren':
      return shape(e.inner);
    default:
      return valueText(e);
  }
}

const cond = (c: string) => shape(rule(`permit t if ${c}`).condition!);

describe('conditions', () => {
  const cases: [string, string][] = [
    ['amount < $500', '(amount < $500)'],
    ['a == 1 and b == 2 or c == 3', '(((a == 1) and (b == 2)) or (c == 3))'],
    ['a == 1 or b == 2 and c == 3', '((a == 1) or ((b == 2) and (c == 3)))'],
    ['not path matches "x"', '(not (path matches "x"))'],
    ['not a and b', '((not a) and b)'],
    ['not (a and b)', '(not (a and b))'],
    ['not not a', '(not (not a))'],
    ['a && b || !c', '((a and b) or (not c))'],
    ['x != nil && x matches "a|b"', '((x != nil) and (x matches "a|b"))'],
    ['currency in ["USD", "EUR"]', '(currency in ["USD", "EUR"])'],
    ['x not in [1, 2]', '(not (x in [1, 2]))'],
    ['principal.groups contains "ops"', '(principal.groups contains "ops")'],
    ['name startsWith "a" or name endsWith "z"', '((name startsWith "a") or (name endsWith "z"))'],
    ['path.starts_with("./drafts/")', '(path startsWith "./drafts/")'],
    ['to.ends_with("@x.com")', '(to endsWith "@x.com")'],
    ['time.hour >= 18 or time.hour < 8', '((time.hour >= 18) or (time.hour < 8))'],
    ['(a or b) and c', '((a or b) and c)'],
    ['flag == true', '(flag == true)'],
    ['n <= 1e3', '(n <= 1e3)'],
    ['x == -5', '(x == -5)'],
    ['a == env("X")', '(a == env("X"))'],
    ['headers.x-api-key == "k"', '(headers.x-api-key == "k")'],
    ['a\n      and b', '(a and b)'],
  ];
  for (const [input, expected] of cases) test(input.replace(/\s+/g, ' '), () => assert.equal(cond(input), expected));
});

describe('rules', () => {
  test('effects and aliases', () => {
    assert.equal(rule('permit a').effect, 'permit');
    assert.equal(rule('allow a').effect, 'permit');
    assert.equal(rule('approve a').effect, 'permit');
    assert.equal(rule('block a').effect, 'deny');
    assert.equal(rule('reject a').effect, 'deny');
    assert.equal(rule('defer a').effect, 'defer');
  });
  test('deny! and deny !', () => {
    assert.equal(rule('deny! a').strict, true);
    assert.equal(rule('deny ! a').strict, true);
    assert.equal(rule('deny a').strict, false);
  });
  test('when is if', () => assert.ok(rule('permit a when x == 1').condition));
  test('clauses in any order', () => {
    const r = rule('permit api/* method POST host "api.example.com" path /v1/* reason "r" notify "n"');
    assert.equal(r.method?.value, 'POST');
    assert.equal(r.host?.value, 'api.example.com');
    assert.equal(r.path?.value, '/v1/*');
    assert.equal(r.reason?.value, 'r');
    assert.equal(r.notify?.value, 'n');
  });
  test('path as a variable, then as a clause', () => {
    const r = rule('permit fs/write if path matches "^./" path /x');
    assert.equal(shape(r.condition!), '(path matches "^./")');
    assert.equal(r.path?.value, '/x');
  });
  test('reason: with a colon, on the next line', () => assert.equal(rule('deny! a when b == 1\n  reason: "why"').reason?.value, 'why'));
  test('quoted tool', () => assert.equal(rule('permit "odd tool"').tool.text, 'odd tool'));
  test('rule spans its clauses', () => {
    const text = 'deny x reason "r"';
    assert.deepEqual(rule(text).span, { start: 0, end: text.length });
  });
});

describe('blocks', () => {
  test('labels, bare-word labels and nesting', () => {
    const { file, codes } = parsed('agent "a" {\n  budget daily {\n    max $5\n  }\n}\n');
    assert.deepEqual(codes, []);
    const agent = file.items[0] as BlockNode;
    const budget = agent.body[0] as BlockNode;
    assert.equal(budget.type, 'budget');
    assert.deepEqual(
      budget.labels.map((l) => [l.kind, l.value]),
      [['Word', 'daily']],
    );
  });
  test('one-line blocks', () => {
    const { file, codes } = parsed(
      'agent "a" {\n  alert { on = "deny" notify = "slack://#x" }\n  budget daily { max $500 on_exceed defer }\n}\n',
    );
    assert.deepEqual(codes, []);
    const agent = file.items[0] as BlockNode;
    assert.equal((agent.body[0] as BlockNode).body.length, 2);
    assert.equal((agent.body[1] as BlockNode).body.length, 2);
  });
  test('unquoted agent id (upstream)', () => {
    const { file } = parsed('agent infra-bot {\n  default deny\n}\n');
    assert.equal((file.items[0] as BlockNode).labels[0]?.value, 'infra-bot');
  });
  test('semicolons separate fields', () => assert.deepEqual(parsed('provider "v" { type = "vault"; addr = "x" }').codes, []));
  test('rate limit, redact, var, use', () => {
    const { file, codes } = parsed(
      'agent "a" {\n  rate_limit "s/*": 10 per minute\n  redact s/c args: ["a.b", "c"]\n  var h = "x"\n  use pack { n = 5 }\n}\n',
    );
    assert.deepEqual(codes, []);
    assert.deepEqual(
      (file.items[0] as BlockNode).body.map((i) => i.kind),
      ['RateLimit', 'Redact', 'Var', 'Use'],
    );
  });
  test('trust entries are read raw', () => {
    const { file, codes } = parsed(
      'trust {\n  key "github.com/r" ed25519:nxNjaQnS3L+zzKrRq48XfYBDWlFXkNJkxUiTD8j0sFs=  # pinned\n  spiffe_federated "spiffe://p" \\\n    bundle_url = "https://p/b"\n}\n',
    );
    assert.deepEqual(codes, []);
    const entries = (file.items[0] as BlockNode).body;
    assert.equal(entries[0]?.kind === 'TrustEntry' && entries[0].rest.text, 'ed25519:nxNjaQnS3L+zzKrRq48XfYBDWlFXkNJkxUiTD8j0sFs=');
    assert.equal(entries[1]?.kind === 'TrustEntry' && entries[1].rest.text, 'bundle_url = "https://p/b"');
    assert.equal(file.comments.length, 1);
  });
  test('import with alias', () => {
    const { file } = parsed('import "r/policies/ns/p@1.0.0" as p\n');
    assert.equal(file.items[0]?.kind === 'Import' && file.items[0].alias?.value, 'p');
  });
  test('maps and lists as values', () =>
    assert.deepEqual(parsed('runtime {\n  strip_env = ["AWS_*",\n    "GCP_*",\n  ]\n  x = { a = 1, b = "c" }\n}\n').codes, []));
});

describe('recovery', () => {
  const cases: [string, string, string[]][] = [
    ['unclosed block', 'agent "a" {\n  default deny\n', ['unclosed@1']],
    ['stray closing brace', '}\nagent "a" {\n}\n', ['unbalanced-brace@1']],
    ['bad rule then good rule', 'permit\npermit ok\npermit x if\npermit y\n', ['expected-tool@1', 'expected-operand@3']],
    ['junk after rule', 'permit a b\npermit c\n', ['unexpected-token@1']],
    ['chained comparison', 'permit a if 1 < x < 3\n', ['chained-comparison@1']],
    ['unknown function', 'permit a if len(x) > 3\n', ['unknown-function@1']],
    ['unquoted glob in condition', 'permit a if tool == stripe/*\n', ['invalid-variable@1']],
    ['empty path segment', 'permit a if args..x == 1\n', ['invalid-variable@1']],
    // Not numbers, and not argument names either: as `args.10_000` the deny would never match.
    ['digit separators are not a number', 'deny a if amount > 10_000\npermit a\n', ['invalid-number@1']],
    ['units are not a number', 'defer a if time.hour >= 18h\n', ['invalid-number@1']],
    ['a version is not a number', 'deny a if v == 1.2.3\n', ['invalid-number@1']],
    ['duplicate clause', 'permit a if x == 1 if y == 2\n', ['duplicate-clause@1']],
    ['value missing', 'agent "a" {\n  default\n}\n', ['expected-value@2']],
    ['import needs a string', 'import foo\n', ['expected-token@1']],
    ['unclosed list', 'agent "a" {\n  egress {\n    allow = ["a"\n', ['unclosed@3']],
  ];
  for (const [title, text, expected] of cases) {
    test(title, () =>
      assert.deepEqual(
        parsed(text)
          .codes.filter((c) => !c.startsWith('unclosed@') || expected.some((e) => e.startsWith('unclosed')))
          .slice(0, expected.length),
        expected,
      ),
    );
  }
  test('errors after a broken block are still found', () => {
    const codes = parsed('agent "a" {\n  rules {\n    permit\n  }\n}\nagent "b" {\n  default %\n}\n').codes;
    assert.deepEqual(codes, ['expected-tool@3', 'unexpected-character@7', 'expected-value@7']);
  });
});

test('deep nesting is refused, not a stack overflow', () => {
  const deep = `permit a if ${'('.repeat(5000)}x${')'.repeat(5000)}\n`;
  assert.deepEqual(parsed(deep).codes, ['too-deep@1']);
  const deepBlocks = `${'a {'.repeat(3000)}${'}'.repeat(3000)}`;
  assert.ok(parsed(deepBlocks).codes.includes('too-deep@1'));
  const deepList = `agent "a" {\n  x = ${'['.repeat(3000)}${']'.repeat(3000)}\n}`;
  assert.ok(parsed(deepList).codes.includes('too-deep@2'));
});
