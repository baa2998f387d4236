import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson } from '@faramesh/protocol';
import type { DecisionRequest } from '@faramesh/protocol';
import { decide, emptyState } from '../src/index.js';
import { policy, T0 } from './support.js';

const RUNS = Number(process.env.FARAMESH_PROPERTY_RUNS ?? 200);

// ---- a small random policy language, and a deliberately naive evaluator for it ------------

const SEGMENTS = ['a', 'b', 'c'];
type Cond = { field: 'n' | 's' | 'l'; op: '<' | '==' | 'in' | '!='; value: number | string | string[] } | undefined;
type Rule = { effect: 'permit' | 'defer' | 'deny'; pattern: string; cond: Cond; line: number };

const pattern = fc
  .array(fc.constantFrom(...SEGMENTS, '*'), { minLength: 1, maxLength: 3 })
  .chain((segs) => fc.constantFrom(segs.join('/'), [...segs.slice(0, -1), '**'].join('/')));
const cond: fc.Arbitrary<Cond> = fc.oneof(
  fc.constant(undefined),
  fc.record({
    field: fc.constant('n' as const),
    op: fc.constantFrom('<' as const, '==' as const, '!=' as const),
    value: fc.integer({ min: -2, max: 4 }),
  }),
  fc.record({ field: fc.constant('s' as const), op: fc.constantFrom('==' as const, '!=' as const), value: fc.constantFrom('x', 'y') }),
  fc.record({ field: fc.constant('l' as const), op: fc.constant('in' as const), value: fc.subarray(['x', 'y', 'z']) }),
);
const rules = fc.array(fc.record({ effect: fc.constantFrom('permit' as const, 'defer' as const, 'deny' as const), pattern, cond }), {
  maxLength: 12,
});
const defaultEffect = fc.constantFrom('permit' as const, 'deny' as const, undefined);
const value = fc.oneof(
  fc.integer({ min: -2, max: 4 }),
  fc.constantFrom('x', 'y', 'z', ''),
  fc.boolean(),
  fc.constant(null),
  fc.constant([1]),
);
const request = fc.record({
  tool: fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
  args: fc.record({ n: value, s: value, l: value }, { requiredKeys: [] }),
});

function render(rs: Omit<Rule, 'line'>[], dflt: string | undefined): { text: string; rules: Rule[] } {
  const lines = ['agent "bot" {', ...(dflt ? [`  default ${dflt}`] : []), '  rules {'];
  const out: Rule[] = [];
  for (const r of rs) {
    const c = r.cond ? ` if ${r.cond.field} ${r.cond.op} ${JSON.stringify(r.cond.value)}` : '';
    lines.push(`    ${r.effect} ${r.pattern}${c}`);
    out.push({ ...r, line: lines.length });
  }
  lines.push('  }', '}');
  return { text: lines.join('\n') + '\n', rules: out };
}

function naiveGlob(p: string[], t: string[]): boolean {
  if (p.length === 0) return t.length === 0;
  const [head, ...rest] = p;
  if (head === '**') return t.some((_, i) => naiveGlob(rest, t.slice(i))) || naiveGlob(rest, []);
  return t.length > 0 && (head === '*' || head === t[0]) && naiveGlob(rest, t.slice(1));
}

/**
 * true / false / 'unknown' (a field missing) / 'mismatch' (present, but of a type that does not
 * compare), written independently of the engine.
 */
function naiveCond(c: Cond, args: Record<string, unknown>): boolean | 'unknown' | 'mismatch' {
  if (!c) return true;
  // A null field is a missing one (docs/engine.md).
  const has = Object.hasOwn(args, c.field) && args[c.field] !== null;
  const v = args[c.field];
  if (c.op === 'in') {
    if (!has) return 'unknown';
    const list = c.value as string[];
    if (list.includes(v as string)) return true;
    return list.length === 0 || typeof v === 'string' ? false : 'mismatch';
  }
  if (!has) return 'unknown';
  if (typeof v !== typeof c.value) return 'mismatch';
  if (c.op === '<') return (v as number) < (c.value as number);
  return c.op === '==' ? v === c.value : v !== c.value;
}

function naiveDecide(
  rs: Rule[],
  dflt: string | undefined,
  req: { tool: string; args: Record<string, unknown> },
): { effect: string; ref?: string } {
  for (const r of rs) {
    const truth = naiveGlob(r.pattern.split('/'), req.tool.split('/')) ? naiveCond(r.cond, req.args) : false;
    // A deny or defer applies when its condition could not compare an argument of another type.
    if (truth === true || (truth === 'mismatch' && r.effect !== 'permit'))
      return { effect: r.effect.toUpperCase(), ref: `governance.fms:${r.line}` };
  }
  return { effect: (dflt ?? 'deny').toUpperCase() };
}

test('first match agrees with a naive reference evaluator on random policies', () => {
  fc.assert(
    fc.property(rules, defaultEffect, fc.array(request, { minLength: 1, maxLength: 6 }), (rs, dflt, reqs) => {
      const { text, rules: rendered } = render(rs, dflt);
      const p = policy(text);
      for (const req of reqs) {
        const expected = naiveDecide(rendered, dflt, req);
        const { decision } = decide(p, { agent_id: 'bot', ...req }, emptyState(), { nowMs: T0 });
        assert.equal(decision.effect, expected.effect, `${text}\n${JSON.stringify(req)}`);
        assert.equal(decision.rule_ref, expected.ref, `${text}\n${JSON.stringify(req)}`);
      }
    }),
    { numRuns: RUNS },
  );
});

const fixed = policy(`agent "bot" {
  default deny
  rules {
    permit a/* if n < 3 and s in ["x", "y"]
    defer  a/** if l contains "x" or not s == "z"
    deny   b reason "no"
    permit ** if principal.groups contains "ops" and time.hour < 12
  }
  rate_limit "a/*": 3 per minute
  budget daily {
    max $5
    warn_at 0.5
  }
  egress {
    allow = ["*.example.com"]
  }
  redact a/b args: ["s", "deep.x"]
}
`);

const anyJson = fc.jsonValue({ maxDepth: 3 });
const anyRequest: fc.Arbitrary<DecisionRequest> = fc.record(
  {
    agent_id: fc.oneof(fc.constant('bot'), fc.string()),
    tool: fc.oneof(fc.constantFrom('a/b', 'a/b/c', 'b', 'c'), fc.string({ unit: 'binary', maxLength: 20 })),
    args: fc.dictionary(fc.constantFrom('n', 's', 'l', 'url', 'host', 'deep', 'x'), anyJson),
    principal: fc.dictionary(fc.constantFrom('groups', 'email'), anyJson),
    model: fc.string(),
    session_id: fc.string({ maxLength: 4 }),
    cost_usd: fc.oneof(fc.double(), fc.integer()),
    http: fc.record({ host: fc.string(), method: fc.string(), path: fc.string() }, { requiredKeys: [] }),
  },
  { requiredKeys: ['agent_id', 'tool'] },
) as fc.Arbitrary<DecisionRequest>;

test('decide is total: random requests and states never throw', () => {
  fc.assert(
    fc.property(fc.array(anyRequest, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 4_000_000_000_000 }), (reqs, now) => {
      const state = emptyState();
      for (const req of reqs) {
        const r = decide(fixed, req, state, { nowMs: now });
        assert.ok(['PERMIT', 'DEFER', 'DENY'].includes(r.decision.effect));
        assert.doesNotThrow(() => canonicalJson(r.stateDelta), 'the delta is serialisable');
      }
    }),
    { numRuns: RUNS * 5 },
  );
});

test('decide is deterministic: same inputs, byte-identical decision and delta', () => {
  fc.assert(
    fc.property(anyRequest, fc.integer({ min: 0, max: 4_000_000_000_000 }), (req, now) => {
      const a = decide(fixed, req, emptyState(), { nowMs: now });
      const b = decide(fixed, structuredClone(req), emptyState(), { nowMs: now });
      assert.equal(canonicalJson(a), canonicalJson(b));
    }),
    { numRuns: RUNS * 5 },
  );
});

test('decide never mutates its inputs', () => {
  fc.assert(
    fc.property(anyRequest, (req) => {
      const state = emptyState();
      const snapshot = () =>
        JSON.stringify({ req, state }, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
      const before = snapshot();
      decide(fixed, req, state, { nowMs: T0 });
      assert.equal(snapshot(), before);
    }),
    { numRuns: RUNS },
  );
});
