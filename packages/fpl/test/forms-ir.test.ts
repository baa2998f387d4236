import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalJson } from '@faramesh/protocol';
import { compile } from '../src/compile.js';
import { stripPositions } from '../src/ir.js';
import { Source } from '../src/syntax/source.js';
import { REGISTRY, TestRegistry } from './support/registry.js';

/**
 * The three forms of one policy compile to identical IR (but for positions), with their imports
 * resolved from a signed registry and merged — the property the forms exist for.
 */
const DOCS_KEY = 'nxNjaQnS3L+zzKrRq48XfYBDWlFXkNJkxUiTD8j0sFs=';
const registry = new TestRegistry();
after(() => registry.cleanup());
registry.add(
  'policies/stripe/1.3.0',
  'agent "payments-bot" {\n  rules {\n    deny! stripe/payouts\n    defer stripe/charge if amount > refund_threshold\n  }\n}\npermit stripe/balance if amount < refund_threshold\n',
);
registry.add('policies/shell/1.0.0', 'deny shell/rm reason "pack: no deletes"\n');
registry.add(
  'policies/rollout/1.0.0',
  'agent "payments-bot" {\n  phase "open" {\n    rules {\n      permit shell/exec\n    }\n  }\n}\nagent "helper" {\n  default deny\n  phase "trial" {\n    rules {\n      permit search\n    }\n  }\n}\n',
);
registry.add('frameworks/langgraph/1.0.0', 'runtime {\n  mode = "audit"\n  backend = "sqlite"\n}\n');

/** Pin the test registry's key: swap the docs' key where a trust block exists, else add one. */
function pinTestKey(name: string, text: string): string {
  if (text.includes(DOCS_KEY)) return text.replaceAll(DOCS_KEY, registry.key.publicB64);
  if (name.endsWith('.json')) {
    const data = JSON.parse(text) as Record<string, unknown>;
    data.trust = { keys: [{ registry: REGISTRY, key: `ed25519:${registry.key.publicB64}` }] };
    return JSON.stringify(data, null, 2);
  }
  if (name.endsWith('.yaml'))
    return `${text}\ntrust:\n  keys:\n    - registry: ${REGISTRY}\n      key: ed25519:${registry.key.publicB64}\n`;
  return `${text}\n${registry.trust()}`;
}

const env = { VAULT_ADDR: 'https://v', FARAMESH_LISTEN: '127.0.0.1:8080', SPLUNK_URL: 'https://s', WHO: 'x' };

for (const fixture of ['payments', 'orchestrator', 'flat', 'advanced']) {
  test(`${fixture}: .fms, .fms.yaml and .fms.json compile to the same IR`, () => {
    const irs = ['governance.fms', 'governance.fms.yaml', 'governance.fms.json'].map((name) => {
      const text = pinTestKey(name, readFileSync(new URL(`../../test/fixtures/forms/${fixture}/${name}`, import.meta.url), 'utf8'));
      const r = compile(new Source(name, text), { env, registryRoot: registry.root, stackDir: registry.stackDir });
      assert.deepEqual(
        r.diagnostics.items.filter((d) => d.severity === 'error').map((d) => `${name}:${d.source.lineOf(d.span.start)}: ${d.message}`),
        [],
      );
      assert.ok(r.ir);
      return canonicalJson(stripPositions(r.ir));
    });
    assert.equal(irs[1], irs[0], 'YAML form');
    assert.equal(irs[2], irs[0], 'JSON form');
  });
}

test('imports merge as documented: local rules first, an imported deny! ahead of them', () => {
  const text = `import "${REGISTRY}/policies/stripe@1.3.0" as stripe_rules\n${registry.trust()}agent "payments-bot" {\n  default deny\n  use stripe_rules { refund_threshold = 100 }\n  rules {\n    permit stripe/charge if amount < 50\n  }\n}\n`;
  const r = compile(new Source('governance.fms', text), { env: {}, registryRoot: registry.root, stackDir: registry.stackDir });
  assert.deepEqual(
    r.diagnostics.items.map((d) => d.message),
    [],
  );
  const rules = r.ir!.agents[0]!.rules;
  assert.deepEqual(
    rules.map((x) => [x.effect, x.tool, x.origin ?? 'local']),
    [
      ['deny', 'stripe/payouts', `${REGISTRY}/policies/stripe@1.3.0`],
      ['permit', 'stripe/charge', 'local'],
      ['defer', 'stripe/charge', `${REGISTRY}/policies/stripe@1.3.0`],
      ['permit', 'stripe/balance', `${REGISTRY}/policies/stripe@1.3.0`],
    ],
  );
  // `use` params reach the pack's top-level rules as vars.
  assert.deepEqual(rules[3]!.when, { op: '<', args: [{ var: ['args', 'amount'] }, { lit: 100 }] });
  // Imported rules point into the import for their rule_ref.
  assert.match(rules[0]!.ref, /^github\.com\/faramesh\/faramesh-registry\/policies\/stripe@1\.3\.0:3$/);
  assert.equal(r.ir!.imports[0]!.key_id, registry.key.id);
  assert.match(r.ir!.imports[0]!.sha256!, /^[0-9a-f]{64}$/);
});

test("an import never adds phases to a local agent, whose rules would then come after the import's", () => {
  const text = `import "${REGISTRY}/policies/rollout@1.0.0"\n${registry.trust()}agent "payments-bot" {\n  default deny\n  rules {\n    deny shell/exec\n  }\n}\n`;
  const r = compile(new Source('governance.fms', text), { env: {}, registryRoot: registry.root, stackDir: registry.stackDir });
  assert.ok(r.ir);
  const bot = r.ir.agents.find((a) => a.id === 'payments-bot')!;
  assert.deepEqual(bot.phases, []);
  assert.deepEqual(
    r.diagnostics.items.map((d) => [d.code, d.message]),
    [
      [
        'import-ignored',
        `${REGISTRY}/policies/rollout@1.0.0: the phases of agent "payments-bot" (their rules would be tried before the agent's own; declare phases locally) from an import is ignored`,
      ],
      [
        'import-adds-agent',
        `${REGISTRY}/policies/rollout@1.0.0 declares agent "helper", which the local policy does not: its rules, not the local top-level rules, decide that agent's calls`,
      ],
    ],
  );
  // An agent that exists only in the import keeps its phases.
  assert.deepEqual(
    r.ir.agents.find((a) => a.id === 'helper')!.phases.map((p) => p.name),
    ['trial'],
  );
});

test('an imported runtime only fills fields the local policy leaves unset', () => {
  const text = `import "${REGISTRY}/frameworks/langgraph@1.0.0"\n${registry.trust()}runtime {\n  mode = "enforce"\n}\n`;
  const r = compile(new Source('governance.fms', text), { env: {}, registryRoot: registry.root, stackDir: registry.stackDir });
  assert.deepEqual(r.ir!.runtime, { mode: 'enforce', backend: 'sqlite' });
});
