/** Bad YAML/JSON policies: every problem is a diagnostic at the right place, nothing throws. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseJsonPolicy, parseYamlPolicy } from '../src/forms/index.js';
import { Diagnostics, diagnosticToJson, type DiagnosticJson } from '../src/syntax/diagnostics.js';
import { decodePolicyBytes, Source } from '../src/syntax/source.js';

type Load = typeof parseYamlPolicy;

function problems(text: string, load: Load = parseYamlPolicy): DiagnosticJson[] {
  const result = load(new Source(load === parseJsonPolicy ? 'governance.fms.json' : 'governance.fms.yaml', text));
  return result.diagnostics.items.map(diagnosticToJson);
}

function only(text: string, load: Load = parseYamlPolicy): DiagnosticJson {
  const found = problems(text, load);
  assert.equal(found.length, 1, JSON.stringify(found, null, 1));
  return found[0]!;
}

const at = (d: DiagnosticJson) => `${d.code}@${d.line}:${d.column}`;

test('malformed YAML is a yaml-syntax error and yields no items', () => {
  const source = new Source('p.yaml', 'agent:\n  - id: a\n    rules: [ { effect: permit\n');
  const result = parseYamlPolicy(source);
  assert.deepEqual(result.file.items, []);
  assert.ok(result.diagnostics.items.length > 0);
  assert.ok(result.diagnostics.items.every((d) => d.code === 'yaml-syntax' && d.severity === 'error'));
  assert.equal(at(only('rules:\n  - effect: permit\n   tool: x\n')), 'yaml-syntax@3:1');
});

test('several YAML documents in one file are refused', () => {
  const d = only('rules: []\n---\nrules: []\n');
  assert.equal(at(d), 'yaml-syntax@2:1');
  assert.match(d.hint ?? '', /---/);
});

test('malformed JSON is reported where it goes wrong', () => {
  const text = '{\n  "rules": [\n    { "effect": "permit", "tool": "x", }\n  ]\n}\n';
  assert.equal(at(only(text, parseJsonPolicy)), 'json-syntax@3:40');
  // V8 gives no position for this one; the locator still finds it.
  assert.equal(at(only('{"rules": tru}', parseJsonPolicy)), 'json-syntax@1:11');
  assert.equal(at(only('{"rules": [', parseJsonPolicy)), 'json-syntax@1:12');
  assert.equal(at(only('{"a": "x\ny"}', parseJsonPolicy)), 'json-syntax@1:9');
});

test('YAML-only syntax in a .json file is refused', () => {
  const comment = only('# policy\n{"rules": []}\n', parseJsonPolicy);
  assert.equal(at(comment), 'json-syntax@1:1');
  assert.match(comment.message, /comments/);
  assert.equal(at(only('{rules: []}', parseJsonPolicy)), 'json-syntax@1:2');
  assert.equal(at(only('rules: []\n', parseJsonPolicy)), 'json-syntax@1:1');
  assert.equal(at(only("{'rules': []}", parseJsonPolicy)), 'json-syntax@1:2');
  // Valid JSON with a duplicate key is still caught by the YAML reader.
  assert.equal(only('{"rules": [], "rules": []}', parseJsonPolicy).code, 'json-syntax');
});

test('values of the wrong type are invalid-structure errors at the value', () => {
  assert.equal(at(only('rules:\n  effect: permit\n')), 'invalid-structure@2:3');
  assert.equal(at(only('runtime: [1, 2]\n')), 'invalid-structure@1:10');
  assert.equal(at(only('agent:\n  - id: [a]\n')), 'invalid-structure@2:9');
  assert.equal(at(only('rules:\n  - { effect: permit, tool: 42 }\n')), 'invalid-structure@2:29');
  assert.equal(at(only('agent:\n  - id: a\n    rate_limits: [{ pattern: x, limit: ten, window: minute }]\n')), 'invalid-value@3:40');
  assert.equal(at(only('42\n')), 'invalid-structure@1:1');
});

test('missing required fields are reported on the item', () => {
  const noTool = only('rules:\n  - effect: permit\n    condition: amount < 5\n');
  assert.equal(at(noTool), 'missing-field@2:5');
  assert.match(noTool.message, /'tool'/);
  assert.equal(at(only('agent:\n  - default: deny\n')), 'missing-field@2:5');
  assert.equal(at(only('trust:\n  keys:\n    - registry: r\n')), 'missing-field@3:7');
});

test('unknown keys get a did-you-mean', () => {
  const cases: [string, string, string][] = [
    ['agnets:\n  - id: a\n', 'unknown-field@1:1', "did you mean 'agents'?"],
    ['rules:\n  - { effect: permit, tool: x, condtion: a }\n', 'unknown-field@2:32', "did you mean 'condition'?"],
    ['agent:\n  - id: a\n    rate_limit: []\n', 'unknown-field@3:5', "did you mean 'rate_limits'?"],
    ['agent:\n  - id: a\n    budgets: [{ id: d, max: 5, on_exceeds: deny }]\n', 'unknown-field@3:32', "did you mean 'on_exceed'?"],
  ];
  for (const [text, where, hint] of cases) {
    const d = only(text);
    assert.equal(at(d), where, text);
    assert.equal(d.hint, hint, text);
  }
});

test('an unknown effect is reported with the closest effect word', () => {
  const d = only('rules:\n  - { effect: permitt, tool: x }\n');
  assert.equal(at(d), 'invalid-effect@2:15');
  assert.equal(d.hint, "did you mean 'permit'?");
  assert.equal(at(only('rules:\n  - { effect: permit, tool: x, strict: true }\n')), 'invalid-value@2:32');
});

test('a bad condition is reported at its place in the YAML text, and its rule is dropped', () => {
  const yaml = [
    'agent:',
    '  - id: a',
    '    rules:',
    '      - effect: permit',
    '        tool: stripe/refund',
    '        condition: amount < $5 foo',
    '',
  ].join('\n');
  const result = parseYamlPolicy(new Source('governance.fms.yaml', yaml));
  const [d, ...rest] = result.diagnostics.items.map(diagnosticToJson);
  assert.deepEqual(rest, []);
  assert.equal(at(d!), 'unexpected-token@6:32');
  assert.equal(d!.end_column, 35);
  // Dropped, not kept unconditional: an unconditional permit would be broader than intended.
  const agent = result.file.items[0];
  assert.ok(agent?.kind === 'Block');
  const rules = agent.body[0];
  assert.ok(rules?.kind === 'Block' && rules.type === 'rules');
  assert.deepEqual(rules.body, []);

  const quoted = only('rules:\n  - effect: permit\n    tool: x\n    condition: "a == \\"b\\" and (c"\n');
  assert.equal(at(quoted), 'expected-token@4:34');
  const lexical = problems('rules:\n  - effect: permit\n    tool: x\n    condition: |\n      amount < $5\n      and x == "unterminated\n');
  assert.equal(at(lexical[0]!), 'unterminated-string@6:16');
  const json = only('{"rules": [{"effect": "permit", "tool": "x",\n  "condition": "a == \\"b\\" or"}]}', parseJsonPolicy);
  assert.equal(at(json), 'expected-operand@2:30');
});

test('YAML aliases are refused', () => {
  const found = problems('runtime: &r { mode: enforce }\nagent:\n  - id: a\n    egress: *r\n');
  assert.deepEqual(found.map(at), ['yaml-alias@4:13']);
});

test('diagnostics go into the collection the caller passes', () => {
  const diagnostics = new Diagnostics();
  diagnostics.warning(new Source('other', ''), { start: 0, end: 0 }, 'earlier', 'from an earlier stage');
  const result = parseYamlPolicy(new Source('p.yaml', 'agnets: []\n'), diagnostics);
  assert.equal(result.diagnostics, diagnostics);
  assert.deepEqual(
    diagnostics.items.map((d) => d.code),
    ['earlier', 'unknown-field'],
  );
});

test('absurdly deep nesting is refused without exhausting the stack', () => {
  const cases = [
    '['.repeat(100_000),
    '['.repeat(50_000) + ']'.repeat(50_000),
    '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000),
    '- '.repeat(20_000) + 'x',
    Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'),
  ];
  for (const text of cases) {
    for (const load of [parseYamlPolicy, parseJsonPolicy]) {
      const found = problems(text, load);
      assert.ok(found.length > 0 && found.every((d) => d.severity === 'error'), text.slice(0, 20));
    }
  }
  assert.equal(only('rules: ' + '['.repeat(300) + ']'.repeat(300)).code, 'too-deep');
  // A long `or` chain is fine up to the operator limit, and refused (not a stack overflow) beyond it.
  const chain = (n: number) => Array.from({ length: n }, (_, i) => `x == ${i}`).join(' or ');
  assert.deepEqual(problems(`rules:\n  - { effect: permit, tool: t, condition: "${chain(200)}" }\n`), []);
  assert.equal(only(`rules:\n  - { effect: permit, tool: t, condition: "${chain(5000)}" }\n`).code, 'too-complex');
});

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertWellFormed(text: string, load: Load): void {
  const source = new Source('fuzz', text);
  const result = load(source);
  for (const d of result.diagnostics.items) {
    assert.ok(
      d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length,
      `${d.code} ${JSON.stringify(d.span)} in ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  if (result.diagnostics.errorCount === 0) assert.ok(result.file.items.every((i) => i.span.end <= text.length));
}

test('random bytes and mutated policies never throw', () => {
  const next = random(0xfa2a);
  const fixtures = ['payments', 'orchestrator', 'flat', 'advanced'].flatMap((name) =>
    ['governance.fms.yaml', 'governance.fms.json'].map((file) =>
      readFileSync(new URL(`../../test/fixtures/forms/${name}/${file}`, import.meta.url), 'utf8'),
    ),
  );
  const alphabet = '{}[]:,-?#&*!|>\'"\\ \t\n$()=<>%@`\u00e9\uFEFF';
  for (let i = 0; i < 200; i++) {
    const bytes = new Uint8Array(Math.floor(next() * 300));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(next() * 256);
    const { text } = decodePolicyBytes(bytes);
    assertWellFormed(text, parseYamlPolicy);
    assertWellFormed(text, parseJsonPolicy);
  }
  for (let i = 0; i < 240; i++) {
    let text = fixtures[i % fixtures.length]!;
    const edits = 1 + Math.floor(next() * 4);
    for (let e = 0; e < edits; e++) {
      const pos = Math.floor(next() * text.length);
      const cut = Math.floor(next() * 8);
      const insert = next() < 0.6 ? alphabet[Math.floor(next() * alphabet.length)]! : '';
      text = text.slice(0, pos) + insert + text.slice(pos + cut);
    }
    assertWellFormed(text, parseYamlPolicy);
    assertWellFormed(text, parseJsonPolicy);
  }
});

test('hidden text in YAML and JSON is refused as in FPL: a lone CR or U+2028 in a comment cannot hide a condition', () => {
  const hiding = (sep: string) =>
    `agents:\n  - id: bot\n    default: deny\n    rules:\n      - effect: permit\n        tool: stripe/refund   # small refunds only${sep}        when: "amount < 100"\n`;
  assert.deepEqual(problems(hiding('\n')), []);
  for (const sep of ['\r', '\u2028', '\u2029']) assert.equal(at(only(hiding(sep))), 'hidden-character@6:51', JSON.stringify(sep));
  assert.equal(at(only('agents:\n  - id: bot # \u202e\n')), 'hidden-character@2:15');
  assert.equal(at(only('{"agents": [{"id": "b\u202eot"}]}', parseJsonPolicy)), 'hidden-character@1:22');
  assert.equal(at(only('{"agents": [{"id": "bot\u2028"}]}', parseJsonPolicy)), 'hidden-character@1:24');
  // Windows line endings stay fine.
  assert.deepEqual(problems('agents:\r\n  - id: bot # c\r\n    default: deny\r\n'), []);
  assert.deepEqual(problems('{"agents":\r\n[{"id": "bot"}]}', parseJsonPolicy), []);
});

test('a mapping of many keys loads in linear time, and a repeated key is still an error at its place', () => {
  // The yaml library's own duplicate check compares each key with every earlier one: 60,000 keys took ~25 s.
  const many = 'runtime:\n' + Array.from({ length: 60_000 }, (_, i) => `  k${i}: 1\n`).join('');
  const started = performance.now();
  const found = problems(many);
  // Linear: under a second here, and a bound far under the quadratic check's time on a busy machine.
  assert.ok(performance.now() - started < 10_000, `${Math.round(performance.now() - started)} ms`);
  assert.deepEqual(found, []);
  assert.equal(at(only('agents:\n  - id: a\n    default: deny\n    default: permit\n')), 'yaml-syntax@4:5');
  assert.equal(at(only('{"agents": [{"id": "a", "id": "b"}]}', parseJsonPolicy)), 'json-syntax@1:25');
});
