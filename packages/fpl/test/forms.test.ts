/** YAML and JSON policies build the same syntax tree as the equivalent FPL, with spans into their own text. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ExprNode, RuleNode } from '../src/syntax/ast.js';
import { parseJsonPolicy, parseYamlPolicy } from '../src/forms/index.js';
import { parse } from '../src/syntax/parser.js';
import { Source } from '../src/syntax/source.js';

const FIXTURES = new URL('../../test/fixtures/forms/', import.meta.url);
const FIXTURE_NAMES = ['payments', 'orchestrator', 'flat', 'advanced'];

function fixture(name: string, file: string): Source {
  return new Source(file, readFileSync(new URL(`${name}/${file}`, FIXTURES), 'utf8'));
}

/** Drop everything positional (spans, source, comments) and unwrap parentheses, which carry no meaning. */
function stripPositions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripPositions);
  if (typeof value !== 'object' || value === null) return value;
  const node = value as Record<string, unknown>;
  if (node.kind === 'Paren') return stripPositions(node.inner);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(node)) {
    if (key === 'span' || key.endsWith('Span') || key === 'source' || key === 'comments') continue;
    out[key] = stripPositions(v);
  }
  return out;
}

function messages(result: { diagnostics: { items: { code: string; message: string }[] } }): string[] {
  return result.diagnostics.items.map((d) => `${d.code}: ${d.message}`);
}

for (const name of FIXTURE_NAMES) {
  const fpl = parse(fixture(name, 'governance.fms'));
  for (const [file, load] of [
    ['governance.fms.yaml', parseYamlPolicy],
    ['governance.fms.json', parseJsonPolicy],
  ] as const) {
    test(`${name}/${file} builds the same tree as ${name}/governance.fms`, () => {
      assert.deepEqual(messages(fpl), [], 'the FPL fixture itself parses cleanly');
      const result = load(fixture(name, file));
      assert.deepEqual(messages(result), []);
      assert.ok(result.file.items.length > 0);
      assert.deepStrictEqual(stripPositions(result.file), stripPositions(fpl.file));
    });
  }
}

test('every span of a loaded fixture lies inside its own file', () => {
  for (const name of FIXTURE_NAMES) {
    for (const file of ['governance.fms.yaml', 'governance.fms.json']) {
      const source = fixture(name, file);
      const result = file.endsWith('.json') ? parseJsonPolicy(source) : parseYamlPolicy(source);
      const stack: unknown[] = [result.file.items];
      while (stack.length > 0) {
        const v = stack.pop();
        if (typeof v !== 'object' || v === null) continue;
        for (const [key, child] of Object.entries(v)) {
          if (key === 'source') continue;
          if (key === 'span' || key.endsWith('Span')) {
            const s = child as { start: number; end: number };
            assert.ok(s.start >= 0 && s.start <= s.end && s.end <= source.text.length, `${name}/${file}: ${key} ${JSON.stringify(s)}`);
          } else stack.push(child);
        }
      }
    }
  }
});

function firstRule(yaml: string, load = parseYamlPolicy): { rule: RuleNode; source: Source } {
  const source = new Source('governance.fms.yaml', yaml);
  const result = load(source);
  assert.deepEqual(messages(result), []);
  const rule = result.file.items[0];
  assert.equal(rule?.kind, 'Rule');
  return { rule: rule as RuleNode, source };
}

const text = (source: Source, node: { span: { start: number; end: number } }): string => source.text.slice(node.span.start, node.span.end);

function leftmostRef(expr: ExprNode): ExprNode {
  let e = expr;
  while (e.kind === 'Binary' || e.kind === 'Paren' || e.kind === 'Not')
    e = e.kind === 'Binary' ? e.left : e.kind === 'Paren' ? e.inner : e.operand;
  return e;
}

test('rule nodes point at their YAML scalars', () => {
  const { rule, source } = firstRule(
    'rules:\n  - effect: allow\n    tool: stripe/refund\n    condition: amount < $500\n    host: api.example.com\n',
  );
  assert.equal(text(source, { span: rule.effectSpan }), 'allow');
  assert.equal(text(source, rule.tool), 'stripe/refund');
  assert.equal(text(source, rule.condition!), 'amount < $500');
  assert.equal(text(source, rule.host!), 'api.example.com');
  assert.equal(source.position(rule.span.start).line, 2);
});

/** The last operand of an expression, following right-hand sides. */
function rightmost(expr: ExprNode): ExprNode {
  let e = expr;
  while (e.kind === 'Binary' || e.kind === 'Paren' || e.kind === 'Not')
    e = e.kind === 'Binary' ? e.right : e.kind === 'Paren' ? e.inner : e.operand;
  return e;
}

test('condition spans are exact in plain, quoted, escaped and folded scalars', () => {
  // [label, YAML line, text of the whole condition, of its first operand, of its last operand]
  const cases: [string, string, string, string, string][] = [
    ['plain', 'condition: args.to matches "@x"', 'args.to matches "@x"', 'args.to', '"@x"'],
    ['single-quoted', "condition: 'x == ''it'' and args.to matches \"@x\"'", "x == ''it'' and args.to matches \"@x\"", 'x', '"@x"'],
    ['double-quoted escapes', 'condition: "x == \\"a\\" and args.to == 1"', 'x == \\"a\\" and args.to == 1', 'x', '1'],
    ['folded', 'condition: >-\n      x == 1\n      and args.to == 2', 'x == 1\n      and args.to == 2', 'x', '2'],
  ];
  for (const [label, line, whole, first, last] of cases) {
    const { rule, source } = firstRule(`rules:\n  - effect: permit\n    tool: t\n    ${line}\n`);
    const cond = rule.condition!;
    assert.equal(text(source, cond), whole, label);
    assert.equal(text(source, leftmostRef(cond)), first, label);
    assert.equal(text(source, rightmost(cond)), last, label);
  }
  const { rule, source } = firstRule('rules:\n  - effect: permit\n    tool: t\n    condition: "x == \\"a\\" and y"\n');
  const cond = rule.condition!;
  assert.ok(cond.kind === 'Binary' && cond.left.kind === 'Binary');
  assert.equal(text(source, cond.left.right), '\\"a\\"', 'an escaped string literal spans its escapes');
});

test('JSON conditions with escaped quotes map back onto the JSON text', () => {
  const json =
    '{\n  "rules": [\n    { "effect": "permit", "tool": "t",\n      "condition": "args.to matches \\"@example\\\\\\\\.com$\\" and amount < $5" }\n  ]\n}\n';
  const { rule, source } = firstRule(json, parseJsonPolicy);
  const cond = rule.condition!;
  assert.ok(cond.kind === 'Binary' && cond.op === 'and');
  const matches = cond.left;
  assert.ok(matches.kind === 'Binary' && matches.right.kind === 'String');
  assert.equal(matches.right.value, '@example\\.com$');
  assert.equal(text(source, matches.right), '\\"@example\\\\\\\\.com$\\"');
  assert.equal(text(source, cond.right), 'amount < $5');
});

test('literal kinds follow what FPL would write', () => {
  const yaml = [
    'agent:',
    '  - id: bot',
    '    default: deny',
    '    version: 1.10',
    '    budgets:',
    '      - { id: daily, max: 500.00, daily: "$20", warn_at: 0.8, on_exceed: defer }',
    '      - { id: "my budget", max_calls: 5 }',
    '    spawn: { token: env("T"), other: { env: U }, map: { a: 1 }, price: "$3", text: "hello", none: ~ }',
    '    rules:',
    '      - { effect: permit, tool: "a b", path: "/v1/*", method: GET, host: "h:1" }',
    '',
  ].join('\n');
  const result = parseYamlPolicy(new Source('p.yaml', yaml));
  assert.deepEqual(messages(result), []);
  const agent = stripPositions(result.file.items[0]) as { body: Record<string, unknown>[] };
  const [def, version, daily, named, spawn, rules] = agent.body;
  assert.deepEqual(def, { kind: 'Attribute', name: 'default', value: { kind: 'Word', value: 'deny' }, equals: false });
  assert.deepEqual(version, { kind: 'Attribute', name: 'version', value: { kind: 'Number', value: 1.1, raw: '1.10' }, equals: true });
  assert.deepEqual(daily, {
    kind: 'Block',
    type: 'budget',
    labels: [{ kind: 'Word', value: 'daily' }],
    body: [
      { kind: 'Attribute', name: 'max', value: { kind: 'Money', value: 500, raw: '$500.00' }, equals: false },
      { kind: 'Attribute', name: 'daily', value: { kind: 'Money', value: 20, raw: '$20' }, equals: false },
      { kind: 'Attribute', name: 'warn_at', value: { kind: 'Number', value: 0.8, raw: '0.8' }, equals: false },
      { kind: 'Attribute', name: 'on_exceed', value: { kind: 'Word', value: 'defer' }, equals: false },
    ],
  });
  assert.deepEqual((named as { labels: unknown }).labels, [{ kind: 'String', value: 'my budget' }]);
  const values = (spawn as { body: { value: unknown }[] }).body.map((a) => a.value);
  assert.deepEqual(values, [
    { kind: 'Env', name: { kind: 'String', value: 'T' } },
    { kind: 'Env', name: { kind: 'String', value: 'U' } },
    { kind: 'Map', entries: [{ kind: 'Attribute', name: 'a', value: { kind: 'Number', value: 1, raw: '1' }, equals: true }] },
    { kind: 'Money', value: 3, raw: '$3' },
    { kind: 'String', value: 'hello' },
    { kind: 'Nil' },
  ]);
  const rule = (rules as { body: Record<string, unknown>[] }).body[0]!;
  assert.deepEqual(rule.tool, { kind: 'ToolPattern', text: 'a b', quoted: true });
  assert.deepEqual(rule.path, { kind: 'Word', value: '/v1/*' });
  assert.deepEqual(rule.method, { kind: 'Word', value: 'GET' });
  assert.deepEqual(rule.host, { kind: 'String', value: 'h:1' });
});

test('effect spellings normalise, and deny! or strict: true make a strict deny', () => {
  const yaml =
    'rules:\n' +
    ['allow', 'approve', 'block', 'reject', 'deny!', 'defer'].map((e) => `  - { effect: "${e}", tool: t }\n`).join('') +
    '  - { effect: deny, tool: t, strict: true }\n';
  const result = parseYamlPolicy(new Source('p.yaml', yaml));
  assert.deepEqual(messages(result), []);
  const rules = result.file.items as RuleNode[];
  assert.deepEqual(
    rules.map((r) => `${r.effect}${r.strict ? '!' : ''}`),
    ['permit', 'permit', 'deny', 'deny', 'deny!', 'defer', 'deny!'],
  );
});

test('an empty document is an empty policy', () => {
  for (const [text, load] of [
    ['', parseYamlPolicy],
    ['# nothing yet\n', parseYamlPolicy],
    ['{}', parseJsonPolicy],
    ['\uFEFF{ "rules": [] }', parseJsonPolicy],
  ] as const) {
    const result = load(new Source('p', text));
    assert.deepEqual(messages(result), [], JSON.stringify(text));
    assert.deepEqual(result.file.items, []);
    assert.equal(result.file.span.end, text.length);
  }
});
