/** Regression tests for inputs that once crashed the toolchain or made a policy more permissive than written. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../src/compile.js';
import { stripPositions } from '../src/ir.js';
import { parseYamlPolicy } from '../src/forms/index.js';
import { parse } from '../src/syntax/parser.js';
import { print } from '../src/syntax/printer.js';
import { Source } from '../src/syntax/source.js';
import { agent, checkText } from './support/policy.js';
import { REGISTRY, TestRegistry } from './support/registry.js';

describe('numbers the IR cannot carry are errors, not crashes', () => {
  for (const text of [
    'permit x if amount < 1e400\n',
    'permit x if amount > 1e-400\n',
    agent('  budget daily {\n    max $1e999\n  }'),
    agent('  var big = 1e999'),
    'permit x if n == 9007199254740993\n',
    'permit x if n == 9007199254740993.0\n',
    'permit x if n == 1e17\n',
    agent('  budget daily {\n    max $9007199254740993.00\n  }'),
  ]) {
    test(JSON.stringify(text.slice(0, 40)), () =>
      assert.deepEqual([...new Set(checkText(text).errors.map((e) => e.code))], ['invalid-number']),
    );
  }
  test('an exponent with a sign is one number (1e+3, 2E-4), in a condition and after an operator', () => {
    for (const [text, value] of [
      ['permit x if amount > 1e+3\n', 1000],
      ['permit x if amount > 2E-4\n', 0.0002],
      ['permit x if amount>-1e+3\n', -1000],
    ] as const) {
      const r = compile(new Source('governance.fms', text), { env: {} });
      assert.equal(r.diagnostics.errorCount, 0, text);
      assert.match(JSON.stringify(r.ir), new RegExp(`"lit":${String(value).replace('.', '\\.')}\\b`), text);
    }
  });
  test('JSON numbers and money that would be rounded too', () => {
    for (const max of ['9007199254740993', '"$9007199254740993"']) {
      const json = `{"agents":[{"id":"a","default":"deny","budgets":[{"id":"daily","max":${max},"on_exceed":"deny"}]}]}`;
      const r = compile(new Source('governance.fms.json', json), { env: {} });
      assert.ok(
        r.diagnostics.items.some((d) => d.code === 'invalid-number'),
        max,
      );
      assert.equal(r.ir, undefined);
    }
  });
  test('YAML money and conditions too', () => {
    const yaml =
      'agent:\n  - id: a\n    budgets:\n      - { id: daily, max: "$1e999" }\n    rules:\n      - { effect: permit, tool: x, condition: "amount < 1e999" }\n';
    const r = compile(new Source('governance.fms.yaml', yaml), { env: {} });
    assert.ok(r.diagnostics.errorCount >= 2);
    assert.equal(r.ir, undefined);
  });
});

test('a duration too large for a number is an invalid value, not a crash of compile', () => {
  const r = checkText(agent(`  session {\n    idle_timeout = "${'9'.repeat(400)}w"\n  }`));
  assert.deepEqual(r.summary, ['invalid-value@3']);
});

test('a duration past 100 years is an invalid value: the daemon could not date an approval or credential that long', () => {
  // approval_ttl = "300000000d" once compiled, and every deferred call then failed with "internal error".
  const r = checkText(`runtime {\n  approval_ttl = "300000000d"\n}\n` + agent(`  credential "c" {\n    ttl = "9999999w"\n  }`));
  assert.deepEqual(r.summary, ['invalid-value@2', 'credential-stub@5', 'invalid-value@6']);
  assert.match(r.errors[0]!.message, /at most 100 years/);
  assert.deepEqual(checkText(`runtime {\n  approval_ttl = "36500d"\n}\n`).summary, []);
});

test('a very long and/or chain is refused, not a stack overflow', () => {
  const r = checkText(`permit x if a${' or a'.repeat(20_000)}\n`);
  assert.deepEqual(r.summary, ['too-complex@1']);
});

test('method-call spellings count towards the condition limits, and fmt keeps them within', () => {
  // `a.contains(…)` once recursed without counting: nested thousands deep, check died with a RangeError.
  const nested = `permit x if ${'a.contains('.repeat(5000)}"s"${')'.repeat(5000)}\n`;
  assert.deepEqual(checkText(nested).summary, ['too-deep@1']);
  // 300 calls joined by `or` were accepted, and fmt then printed 599 operators, a policy it refuses.
  const chain = `permit x if ${Array.from({ length: 300 }, () => 'a.contains("s")').join(' or ')}\n`;
  assert.deepEqual(checkText(chain).summary, ['too-complex@1']);
  // fmt spells `a.contains(…) == true` as `(a contains (…)) == true`: the deepest chain accepted
  // must still parse once formatted.
  let deepest = '';
  for (let e = '"s"'; checkText(`permit x if ${e}\n`).errors.length === 0; e = `a.contains(${e}) == true`) deepest = e;
  const formatted = print(parse(new Source('governance.fms', `permit x if ${deepest}\n`)).file);
  assert.deepEqual(checkText(formatted).summary, []);
});

test('`x not in [..]` counts towards the condition limits as `not x in [..]` does, so fmt keeps it within', () => {
  // fmt prints `x not in` as `not x in`: 300 of them joined by `and` were accepted (299 operators),
  // and fmt wrote 599, a policy apply then refused.
  const chain = `permit x if ${Array.from({ length: 300 }, (_, i) => `a${i} not in [1]`).join(' and ')}\n`;
  assert.deepEqual(checkText(chain).summary, ['too-complex@1']);
  // Each level of `(x not in [..]) not in [..]` costs one nesting level but is printed
  // `not (not x in [..]) in [..]`, two: the deepest chain accepted must still parse once formatted.
  let deepest = '';
  for (let e = 'z', i = 0; checkText(`permit x if ${e}\n`).errors.length === 0; e = `(${e} not in [${i++}])`) deepest = e;
  const formatted = print(parse(new Source('governance.fms', `permit x if ${deepest}\n`)).file);
  assert.deepEqual(checkText(formatted).summary, []);
  assert.deepEqual(stripPositions(checkText(formatted).ir), stripPositions(checkText(`permit x if ${deepest}\n`).ir));
});

test('an agent declared both in a pack and at the top level is a duplicate', () => {
  const r = checkText('pack "p" {\n  agent "b" {\n    default permit\n  }\n}\nagent b {\n  default deny\n}\n');
  assert.deepEqual(r.summary, ['duplicate-block@6']);
});

describe('env()', () => {
  test('is refused where a literal is required', () => {
    assert.deepEqual(checkText(agent('  default env("X")')).summary, ['invalid-value@2']);
    assert.deepEqual(checkText(agent('  budget daily {\n    max env("MAX")\n  }')).summary, ['invalid-value@3']);
  });
  test('is allowed for strings everywhere and for any runtime field', () => {
    assert.deepEqual(
      checkText(
        'runtime {\n  mode = env("MODE")\n  os_tier = env("OS_TIER")\n}\n' +
          agent('  credential "stripe" {\n    backend = env("REGION_PROVIDER")\n  }'),
      ).summary,
      [],
    );
  });
  test('a numeric value compares as a number in conditions', () => {
    const ir = checkText('deny stripe/refund if amount > env("LIMIT")\n', 'governance.fms', { env: { LIMIT: '500' } }).ir!;
    assert.deepEqual(ir.rules[0]!.when, { op: '>', args: [{ var: ['args', 'amount'] }, { lit: 500 }] });
  });
  test('a numeric value a policy could not write is an error, not rounded (to 0, or past 2^53)', () => {
    for (const LIMIT of ['9007199254740993', '5e-400', '1e999']) {
      const r = checkText('permit stripe/refund if amount <= env("LIMIT")\n', 'governance.fms', { env: { LIMIT } });
      assert.deepEqual(r.summary, ['invalid-number@1'], LIMIT);
    }
  });
});

describe('fmt never produces a different or unparseable policy', () => {
  test('a colon field holding a map keeps its `=`', () => {
    const text = 'provider "h" {\n  type = "webhook-sink"\n  headers: { a = "y" }\n}\n';
    const once = print(parse(new Source('governance.fms', text)).file);
    assert.match(once, /headers = \{ a = "y" \}/);
    assert.deepEqual(checkText(once).summary, []);
  });
  test('lists in conditions hold values, not conditions', () => {
    assert.deepEqual(checkText('permit x if v in [(a or b)]\n').summary, ['invalid-operand@1']);
    assert.deepEqual(checkText('permit x if v in [a.starts_with("x")]\n').summary, ['invalid-operand@1']);
  });
  test('comments inside unparsed tokens are printed once', () => {
    const text = 'agent "a" {\n  model "x" [1, # c\n  2]\n}\n';
    const once = print(parse(new Source('governance.fms', text)).file);
    assert.equal(once.split('# c').length, 2);
    assert.equal(print(parse(new Source('governance.fms', once)).file), once);
  });
});

describe('characters that make editors show something else are refused', () => {
  for (const [name, text] of [
    ['a lone CR in a comment', '# audit note\r  deny! shell/*\n'],
    ['U+2028 in a comment', '# note\u2028deny x\n'],
    ['a bidi override in a string', 'permit x if to == "a\u202Eb"\n'],
    ['a bidi isolate in a comment', '# \u2066x\u2069\n'],
  ]) {
    test(name!, () => assert.ok(checkText(text!).errors.some((e) => e.code === 'hidden-character')));
  }
});

describe('imports cannot widen the local policy', () => {
  const reg = new TestRegistry();
  after(() => reg.cleanup());
  reg.add(
    'policies/acme/loose/1.0.0',
    'runtime {\n  mode = "audit"\n  backend = "postgres"\n}\nagent "bot" {\n  default permit\n  rules {\n    permit extra\n  }\n}\npermit everything/**\n',
  );
  reg.add(
    'policies/acme/packform/1.0.0',
    'pack "stripe" {\n  version = "1.0.0"\n  rules {\n    deny! stripe/payouts\n    defer stripe/refund if amount > refund_threshold\n  }\n}\n',
  );
  const compileWith = (text: string) =>
    compile(new Source('governance.fms', text), { env: {}, registryRoot: reg.root, stackDir: reg.stackDir });

  test("an import does not set a local agent's default, nor the runtime mode; both are reported", () => {
    const r = compileWith(`import "${REGISTRY}/policies/acme/loose@1.0.0"\n${reg.trust()}agent "bot" {\n  rules {\n    permit x\n  }\n}\n`);
    const bot = r.ir!.agents[0]!;
    assert.equal(bot.default, undefined, 'no default: calls no rule matches are denied');
    assert.deepEqual(
      bot.rules.map((x) => x.tool),
      ['x', 'extra'],
    );
    assert.deepEqual(r.ir!.runtime, { backend: 'postgres' });
    const warnings = r.diagnostics.items.filter((d) => d.code === 'import-ignored').map((d) => d.message);
    assert.ok(warnings.some((w) => w.includes('runtime.mode')));
    assert.ok(warnings.some((w) => w.includes('top-level rules')));
  });
  test("an import's top-level rules never reach agents without a block", () => {
    const r = compileWith(`import "${REGISTRY}/policies/acme/loose@1.0.0"\n${reg.trust()}`);
    assert.deepEqual(r.ir!.rules, []);
  });
  test('use applies the rules of a pack written as pack { rules { … } }, and reports unused params', () => {
    const r = compileWith(
      `import "${REGISTRY}/policies/acme/packform@1.0.0" as stripe_rules\n${reg.trust()}agent "payments" {\n  default permit\n  use stripe_rules { refund_threshold = 500, refund_treshold = 1 }\n}\n`,
    );
    const rules = r.ir!.agents[0]!.rules;
    assert.deepEqual(
      rules.map((x) => [x.effect, x.tool]),
      [
        ['deny', 'stripe/payouts'],
        ['defer', 'stripe/refund'],
      ],
    );
    assert.deepEqual(rules[1]!.when, { op: '>', args: [{ var: ['args', 'amount'] }, { lit: 500 }] });
    assert.equal(rules[0]!.strict, true);
    assert.deepEqual(
      r.diagnostics.items.map((d) => d.code),
      ['unused-param'],
    );
  });
  test("a used pack's deny! comes before the agent's own rules: a local permit cannot override it", () => {
    const r = compileWith(
      `import "${REGISTRY}/policies/acme/packform@1.0.0" as stripe_rules\n${reg.trust()}agent "payments" {\n  default deny\n  use stripe_rules { refund_threshold = 500 }\n  rules {\n    permit stripe/*\n  }\n}\n`,
    );
    assert.deepEqual(
      r.ir!.agents[0]!.rules.map((x) => [x.effect, x.tool]),
      [
        ['deny', 'stripe/payouts'],
        ['permit', 'stripe/*'],
        ['defer', 'stripe/refund'],
      ],
    );
  });
});

describe('strict deny', () => {
  test('a phase permit that could decide a call a deny! covers is an error (phases are tried first)', () => {
    const r = checkText(
      agent(
        '  default deny\n  phase "rollout" {\n    duration = "24h"\n    rules {\n      permit shell/*\n    }\n  }\n  rules {\n    deny! shell/exec\n  }',
      ),
    );
    assert.deepEqual(r.summary, ['strict-deny-violated@6']);
  });
  test('a permit written above a deny! is its deliberate exception', () => {
    assert.deepEqual(
      checkText(agent('  default deny\n  rules {\n    permit fs/write if path startsWith "./"\n    deny! fs/write\n  }')).summary,
      [],
    );
  });
  test('a permit a use appends after a local deny! is an error', () => {
    assert.deepEqual(checkText(agent('  default deny\n  rules {\n    deny! a/*\n    permit a/b\n  }')).summary, ['strict-deny-violated@5']);
  });
});

describe('hosts are normalised exactly as requests are', () => {
  test('an egress entry with a port is refused', () => {
    assert.deepEqual(checkText(agent('  egress {\n    allow = ["api.stripe.com:443"]\n  }')).summary, ['invalid-value@3']);
    assert.deepEqual(checkText(agent('  egress {\n    allow = ["a.com#frag"]\n  }')).summary, ['invalid-value@3']);
  });
  test('a rule host clause is lowercased and IDNA-encoded; a port is refused', () => {
    const ir = checkText(agent('  rules {\n    deny web/get host "BÜCHER.de."\n  }')).ir!;
    assert.equal(ir.agents[0]!.rules[0]!.host, 'xn--bcher-kva.de');
    assert.deepEqual(checkText(agent('  default deny\n  rules {\n    deny web/get host "api.internal:8443"\n  }')).summary, [
      'invalid-value@4',
    ]);
  });
});

describe('valid policies the checker once rejected', () => {
  test('two unnamed delegate blocks, two budgets by id', () => {
    assert.deepEqual(
      checkText(
        agent(
          '  delegate {\n    target_agent = "a"\n  }\n  delegate {\n    target_agent = "b"\n  }\n  budget {\n    id = "x"\n    max $1\n  }\n  budget {\n    id = "y"\n    max $2\n  }',
        ),
      ).summary,
      [],
    );
  });
  test('default allow is default permit', () => {
    assert.equal(checkText('agent "a" {\n  default allow\n}\n').ir!.agents[0]!.default, 'permit');
  });
});

describe('one mistake, one diagnostic', () => {
  for (const [text, code, hint] of [
    [agent('  rules {\n    pemit shell if args.cmd matches "^ls"\n  }'), 'unknown-field', "did you mean 'permit'?"],
    [agent('  rules {\n    permt y if a == 1\n  }'), 'unknown-field', "did you mean 'permit'?"],
    [agent('  redcat x args: ["a"]'), 'unknown-field', "did you mean 'redact'?"],
    [agent('  rules {\n    alow x\n  }'), 'unknown-field', "did you mean 'allow'?"],
    ['permit y if a = 1\n', 'unexpected-token', "did you mean '=='?"],
  ] as const) {
    test(
      JSON.stringify(
        text
          .split('\n')
          .find((l) => /pemit|permt|redcat|alow|a = 1/.test(l))!
          .trim(),
      ),
      () => {
        const r = checkText(text);
        assert.deepEqual(
          r.errors.map((e) => e.code),
          [code],
        );
        assert.equal(r.errors[0]!.hint, hint);
      },
    );
  }
});

test('a quoted # in a trust entry is kept', () => {
  const file = parse(
    new Source('governance.fms', 'trust {\n  spiffe_federated "spiffe://p" bundle_url = "https://p/b#frag"  # note\n}\n'),
  ).file;
  const entry = file.items[0]!.kind === 'Block' ? file.items[0]!.body[0] : undefined;
  assert.equal(entry?.kind === 'TrustEntry' && entry.rest.text, 'bundle_url = "https://p/b#frag"');
});

test('YAML loads go through the same hardening', () => {
  assert.ok(
    parseYamlPolicy(new Source('governance.fms.yaml', 'rules:\n  - { effect: permit, tool: t, condition: "x in [(a or b)]" }\n'))
      .diagnostics.errorCount > 0,
  );
});

test('a trust entry ending in a backslash before the closing brace is refused (fmt would change its meaning)', () => {
  const text = 'trust {\n  spiffe_federated "spiffe://p" \\\n    bundle_url = "https://p/spire/b\\}\n';
  assert.ok(parse(new Source('governance.fms', text)).diagnostics.items.some((d) => d.message.includes('backslash')));
});

test('an unbalanced quote in a trust entry is refused (comment detection would depend on layout)', () => {
  const text = 'trust {\n  spiffe_federated" "spiffe://p" \\\n    bundle_url#https://p/b"\n}\n';
  assert.ok(parse(new Source('governance.fms', text)).diagnostics.items.some((d) => d.message.includes('unbalanced quote')));
});
