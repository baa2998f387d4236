import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../../examples/support-stack', import.meta.url));

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const POLICY = `agent "support-bot" {
  default deny
  rules {
    permit stripe/refund if amount < $500
    defer  stripe/refund if amount < $5000
    deny   stripe/payouts reason "platform team only"
  }
  rate_limit "stripe/*": 2 per minute
}
`;

function stack(fixtures: Record<string, unknown>, policy = POLICY): string {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-test-'));
  writeFileSync(join(dir, 'governance.fms'), policy);
  mkdirSync(join(dir, 'tests'));
  for (const [name, body] of Object.entries(fixtures))
    writeFileSync(join(dir, 'tests', name), typeof body === 'string' ? body : JSON.stringify(body, null, 2));
  return dir;
}

const refunds = {
  fixture: 'refunds',
  agent_id: 'support-bot',
  now: '2026-05-17T10:00:00Z',
  cases: [
    {
      name: 'small refund permits',
      tool: 'stripe/refund',
      args: { amount: 80 },
      expect: { effect: 'PERMIT', rule_ref: 'governance.fms:4' },
    },
    { name: 'large refund defers', tool: 'stripe/refund', args: { amount: 800 }, expect: { effect: 'DEFER', code: 'POLICY_DEFER' } },
    { name: 'payouts always deny', tool: 'stripe/payouts', args: {}, expect: { effect: 'DENY', code: 'POLICY_DENY' } },
  ],
};

test('test: the bundled example passes, with the documented output', () => {
  const r = run(['test', '--dir', EXAMPLE]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^Compiling governance\.fms \.\.\. ok\nRunning 2 fixtures, 20 cases \.\.\.\n/);
  assert.match(r.stdout, /\n {4}✓ small refund permits\n/);
  assert.match(r.stdout, /\n20 passed, 0 failed\n$/);
});

test('test: a failing case prints expected, got and a diff line, and exits 1', () => {
  const broken = structuredClone(refunds);
  broken.cases[2]!.expect = { effect: 'PERMIT', code: '' } as never;
  const r = run(['test', '--dir', stack({ 'refunds.fmtest.json': broken })]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /✗ payouts always deny\n\s+expected: PERMIT\n\s+got:\s+DENY \(POLICY_DENY\) \(matched rule governance\.fms:6\)\n\s+diff:/,
  );
  assert.match(r.stdout, /\n2 passed, 1 failed\n$/);
});

test('test: a deny case passing on the default for a tool no rule names gets a note (a misspelt tool id)', () => {
  const misspelt = structuredClone(refunds);
  // `stripe/payout` (no s): no rule names it, the default denies it, the case passes regardless.
  misspelt.cases.push({ name: 'payout denied', tool: 'stripe/payout', args: {}, expect: { effect: 'DENY', code: 'POLICY_DENY' } });
  const r = run(['test', '--dir', stack({ 'refunds.fmtest.json': misspelt })]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✓ payout denied\n\s+note: no rule names 'stripe\/payout': only the default decided it/);
  // Cases a rule decided carry no note.
  assert.equal(r.stdout.match(/note:/g)?.length, 1, r.stdout);
  const j = run(['test', '--dir', stack({ 'refunds.fmtest.json': misspelt }), '--format', 'json']);
  const cases = (JSON.parse(j.stdout) as { fixtures: { cases: { name: string; note?: string }[] }[] }).fixtures[0]!.cases;
  assert.match(cases.find((c) => c.name === 'payout denied')!.note!, /no rule names/);
  assert.equal(cases.find((c) => c.name === 'payouts always deny')!.note, undefined);
});

test('test: a misspelt key in a fixture is a problem, not an assertion silently dropped', () => {
  const typo = structuredClone(refunds) as unknown as { cases: Record<string, unknown>[] };
  typo.cases[2] = { name: 'payouts', tool: 'stripe/payouts', expect: { effect: 'DENY', cod: 'RATE_EXCEEDED' } };
  typo.cases[1] = { ...typo.cases[1], principle: { groups: ['ops'] } };
  const r = run(['test', '--dir', stack({ 'typo.fmtest.json': typo })]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /cases\[2\]\.expect\.cod: unknown field/);
  assert.match(r.stdout, /cases\[1\]\.principle: unknown field/);
});

test('test: cases of one fixture share state (rate limits), each fixture starts fresh', () => {
  const limits = {
    agent_id: 'support-bot',
    now: '2026-05-17T10:00:00Z',
    cases: [1, 2, 3].map((i) => ({
      name: `call ${i}`,
      tool: 'stripe/refund',
      args: { amount: 1 },
      expect: { effect: i < 3 ? 'PERMIT' : 'DENY', ...(i === 3 ? { code: 'RATE_EXCEEDED' } : {}) },
    })),
  };
  const r = run(['test', '--dir', stack({ 'a.fmtest.json': limits, 'b.fmtest.json': limits })]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /6 passed, 0 failed/);
});

test('test: --fixture runs one file; --fail-fast stops at the first mismatch', () => {
  const bad = structuredClone(refunds);
  bad.cases[0]!.expect.effect = 'DENY';
  bad.cases[1]!.expect.effect = 'DENY';
  const dir = stack({ 'a.fmtest.json': bad, 'b.fmtest.json': refunds });
  const one = run(['test', '--dir', dir, '--fixture', join(dir, 'tests', 'b.fmtest.json')]);
  assert.match(one.stdout, /3 passed, 0 failed/);
  const underStack = run(['test', '--dir', dir, '--fixture', 'tests/b.fmtest.json']);
  assert.match(underStack.stdout, /3 passed, 0 failed/, 'a relative path not found here is read under the stack');
  const fast = run(['test', '--dir', dir, '--fail-fast']);
  assert.equal(fast.code, 1);
  assert.match(fast.stdout, /\n0 passed, 1 failed\n$/);
});

test('test: --update prints the diff, then rewrites the expectations', () => {
  const stale = structuredClone(refunds);
  stale.cases[1]!.expect = { effect: 'PERMIT' } as never;
  const dir = stack({ 'refunds.fmtest.json': stale });
  const r = run(['test', '--dir', dir, '--update']);
  assert.equal(r.code, 0, 'every failing case was updated: nothing is left failing');
  assert.match(r.stdout, /2 passed, 1 failed, 1 updated/);
  assert.match(
    r.stdout,
    /updating refunds\.fmtest\.json:\n\s+large refund defers: \{"effect":"PERMIT"\} → \{"effect":"DEFER","code":"POLICY_DEFER"\}/,
  );
  const rewritten = JSON.parse(readFileSync(join(dir, 'tests', 'refunds.fmtest.json'), 'utf8')) as typeof refunds;
  assert.deepEqual(rewritten.cases[1]!.expect, { effect: 'DEFER', code: 'POLICY_DEFER' });
  assert.equal(run(['test', '--dir', dir]).code, 0);
});

test('test: --update with --fail-fast is refused (exit 64), so no failing case is left behind under exit 0', () => {
  const stale = structuredClone(refunds);
  stale.cases[0]!.expect = { effect: 'DENY' } as never;
  stale.cases[1]!.expect = { effect: 'PERMIT' } as never;
  const dir = stack({ 'refunds.fmtest.json': stale });
  const before = readFileSync(join(dir, 'tests', 'refunds.fmtest.json'), 'utf8');
  const r = run(['test', '--dir', dir, '--update', '--fail-fast']);
  assert.equal(r.code, 64, r.stdout + r.stderr);
  assert.match(r.stderr, /--update and --fail-fast are exclusive/);
  assert.equal(readFileSync(join(dir, 'tests', 'refunds.fmtest.json'), 'utf8'), before, 'nothing rewritten');
});

test('test: a policy that does not compile exits 2', () => {
  const r = run(['test', '--dir', stack({ 'refunds.fmtest.json': refunds }, 'agent "x" {\n  pemit y\n}\n')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown field 'pemit'/);
  const none = run(['test', '--dir', mkdtempSync(join(tmpdir(), 'faramesh-test-'))]);
  assert.equal(none.code, 2, 'no policy at all is a compile failure too');
  assert.match(none.stderr, /no governance\.fms in/);
  // --format json answers on stdout too, as check does.
  const json = run(['test', '--format', 'json', '--dir', stack({ 'refunds.fmtest.json': refunds }, 'agent "x" {\n  pemit y\n}\n')]);
  assert.equal(json.code, 2);
  const parsed = JSON.parse(json.stdout) as { compiled: boolean; diagnostics: { message: string }[] };
  assert.equal(parsed.compiled, false);
  assert.match(parsed.diagnostics[0]!.message, /unknown field 'pemit'/);
});

test('test: malformed fixtures are reported with their JSON path and fail', () => {
  const r = run([
    'test',
    '--dir',
    stack({
      'a.fmtest.json': '{ not json',
      'b.fmtest.json': { agent_id: 'support-bot', cases: [{ tool: 5, expect: { effect: 'MAYBE' } }] },
    }),
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /a\.fmtest\.json: .*JSON/);
  assert.match(r.stdout, /cases\[0\]\.tool: required, a string/);
  assert.match(r.stdout, /cases\[0\]\.expect\.effect: required, one of PERMIT, DEFER, DENY/);
});

test('test: an impossible date in now is a malformed fixture, not another day', () => {
  const policy = 'agent "a" {\n  default deny\n  rules {\n    permit x if time.month == 4\n  }\n}\n';
  const fixture = (now: string) => ({ agent_id: 'a', now, cases: [{ tool: 'x', expect: { effect: 'DENY' } }] });
  const r = run([
    'test',
    '--dir',
    stack(
      {
        'a.fmtest.json': fixture('2026-04-31T10:00:00Z'),
        'b.fmtest.json': fixture('2026-02-29T10:00:00Z'),
        'c.fmtest.json': fixture('2026-04-30T24:00:00Z'),
        'd.fmtest.json': fixture('2024-02-29T10:00:00Z'),
      },
      policy,
    ),
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /a\.fmtest\.json: now: must be an RFC 3339 time/);
  assert.match(r.stdout, /b\.fmtest\.json: now: must be an RFC 3339 time/);
  assert.match(r.stdout, /c\.fmtest\.json: now: must be an RFC 3339 time/);
  assert.match(r.stdout, /1 passed, 3 failed/, 'a leap day is a date');
});

test('test: a refusal before the rules is explained as what it is, not as the default', () => {
  const policy = `agent "bot" {
  default permit
  selector "user_role" {
    source = "https://idp.invalid/role"
  }
  rules {
    permit search
    permit stripe/charge if user_role == "ops"
  }
  session {
    idle_timeout = "5m"
  }
}
`;
  const fixture = {
    agent_id: 'bot',
    now: '2026-05-17T10:00:00Z',
    cases: [
      { name: 'first', tool: 'search', session: 't', expect: { effect: 'PERMIT' } },
      { name: 'idle', tool: 'search', session: 't', now: '2026-05-17T10:10:00Z', expect: { effect: 'PERMIT' } },
      { name: 'selector', tool: 'stripe/charge', expect: { effect: 'PERMIT' } },
    ],
  };
  const r = run(['test', '--dir', stack({ 's.fmtest.json': fixture }, policy)]);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stdout, /the default applied/, 'the default is permit: it did not deny');
  assert.match(r.stdout, /✗ idle\n.*\n.*\n {8}diff: {5}effect DENY instead of PERMIT: denied: session t timed out after 300s idle\n/);
  assert.match(r.stdout, /✗ selector\n.*\n.*\n {8}diff: {5}effect DENY instead of PERMIT: .*selector 'user_role' is unavailable/);
});

test('test: a call the daemon would refuse (Infinity, __proto__, no tool) is a malformed fixture; --update never rewrites it', () => {
  const policy = 'agent "bot" {\n  default permit\n  rules {\n    deny pay if amount > 100\n  }\n}\n';
  const dir = stack(
    {
      'a.fmtest.json': '{"agent_id":"bot","cases":[{"tool":"pay","args":{"amount":1e400},"expect":{"effect":"PERMIT"}}]}',
      'b.fmtest.json': '{"agent_id":"bot","cases":[{"tool":"pay","args":{"__proto__":{"amount":5000}},"expect":{"effect":"PERMIT"}}]}',
      'c.fmtest.json': { agent_id: 'bot', cases: [{ tool: '', expect: { effect: 'DENY' } }] },
    },
    policy,
  );
  const before = readFileSync(join(dir, 'tests', 'a.fmtest.json'), 'utf8');
  const r = run(['test', '--dir', dir, '--update']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /a\.fmtest\.json: cases\[0\]\.args\.amount is a number too large to represent/);
  assert.match(r.stdout, /b\.fmtest\.json: cases\[0\]\.args\.__proto__ is a key named __proto__/);
  assert.match(r.stdout, /c\.fmtest\.json: cases\[0\]\.tool: required, a string/);
  assert.match(r.stdout, /0 passed, 3 failed/);
  assert.equal(readFileSync(join(dir, 'tests', 'a.fmtest.json'), 'utf8'), before, 'not rewritten');
});

test('test: a cost or usage the daemon would refuse is a malformed fixture, not a call without cost', () => {
  const policy = `agent "bot" {
  default deny
  rules {
    permit llm/call
  }
  budget daily {
    max       $1
    on_exceed deny
  }
}
`;
  const cases = (cost: unknown, usage?: unknown) => ({
    agent_id: 'bot',
    now: '2026-05-17T10:00:00Z',
    cases: [
      { name: 'first', tool: 'llm/call', cost_usd: cost, ...(usage ? { usage } : {}), expect: { effect: 'PERMIT' } },
      { name: 'second', tool: 'llm/call', cost_usd: cost, expect: { effect: 'PERMIT' } },
    ],
  });
  const r = run([
    'test',
    '--dir',
    stack(
      {
        'a.fmtest.json': cases('0.9'),
        'b.fmtest.json': cases(-1),
        'c.fmtest.json': cases(0.1, { model: 'gpt-4o', input_tokens: '1000', output_tokens: -2 }),
      },
      policy,
    ),
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /a\.fmtest\.json: cases\[0\]\.cost_usd: must be a non-negative number/);
  assert.match(r.stdout, /b\.fmtest\.json: cases\[0\]\.cost_usd: must be a non-negative number/);
  assert.match(r.stdout, /c\.fmtest\.json: cases\[0\]\.usage\.input_tokens: must be a non-negative integer/);
  assert.match(r.stdout, /c\.fmtest\.json: cases\[0\]\.usage\.output_tokens: must be a non-negative integer/);
  assert.match(r.stdout, /0 passed, 3 failed/);
});

test('test: --format json is one object with each case, the problems and the totals; --update lists what it rewrote', () => {
  const broken = structuredClone(refunds);
  broken.cases[2]!.expect = { effect: 'PERMIT' } as never;
  const dir = stack({ 'a.fmtest.json': broken, 'b.fmtest.json': { ...refunds, agent_id: 'nobody' }, 'c.fmtest.json': '{ not json' });
  interface Report {
    policy: string;
    fixtures: {
      fixture: string;
      file: string;
      agent_id: string | null;
      cases: { name: string; tool: string; passed: boolean; expected: object; got: object; diff: string | null }[];
      problems: string[];
      updated?: { name: string; from: object; to: object }[];
    }[];
    passed: number;
    failed: number;
  }
  const r = run(['test', '--dir', dir, '--format', 'json']);
  assert.equal(r.code, 1);
  assert.ok(r.stdout.endsWith('}\n'));
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual([report.policy, report.passed, report.failed], ['governance.fms', 2, 3]);
  const [a, b, c] = report.fixtures;
  assert.deepEqual([a!.fixture, a!.file, a!.agent_id, a!.problems], ['refunds', join(dir, 'tests', 'a.fmtest.json'), 'support-bot', []]);
  assert.deepEqual(a!.cases[0], {
    name: 'small refund permits',
    tool: 'stripe/refund',
    passed: true,
    expected: { effect: 'PERMIT', rule_ref: 'governance.fms:4' },
    got: { effect: 'PERMIT', code: null, rule_ref: 'governance.fms:4' },
    diff: null,
  });
  assert.deepEqual(a!.cases[2], {
    name: 'payouts always deny',
    tool: 'stripe/payouts',
    passed: false,
    expected: { effect: 'PERMIT' },
    got: { effect: 'DENY', code: 'POLICY_DENY', rule_ref: 'governance.fms:6' },
    diff: 'effect DENY instead of PERMIT: platform team only',
  });
  assert.equal(a!.updated, undefined, 'nothing rewritten without --update');
  assert.deepEqual([b!.agent_id, b!.cases, b!.problems], ['nobody', [], ["agent_id 'nobody' is not an agent of the policy (support-bot)"]]);
  assert.deepEqual([c!.fixture, c!.agent_id], ['c', null]);
  assert.match(c!.problems[0]!, /^c\.fmtest\.json: .*JSON/);
  const fast = JSON.parse(run(['test', '--dir', dir, '--format', 'json', '--fail-fast']).stdout) as Report;
  assert.deepEqual([fast.fixtures.length, fast.fixtures[0]!.cases.length, fast.passed, fast.failed], [1, 3, 2, 1]);
  const updated = JSON.parse(
    run(['test', '--dir', dir, '--format', 'json', '--update', '--fixture', 'tests/a.fmtest.json']).stdout,
  ) as Report;
  assert.deepEqual(updated.fixtures[0]!.updated, [
    { name: 'payouts always deny', from: { effect: 'PERMIT' }, to: { effect: 'DENY', code: 'POLICY_DENY' } },
  ]);
  assert.equal(run(['test', '--dir', dir, '--fixture', 'tests/a.fmtest.json']).code, 0, 'and the fixture was rewritten');
  const broke = run(['test', '--dir', stack({ 'a.fmtest.json': refunds }, 'agent "x" {\n  pemit y\n}\n'), '--format', 'json']);
  assert.equal(broke.code, 2);
  assert.deepEqual(
    (JSON.parse(broke.stdout) as { compiled: boolean }).compiled,
    false,
    'a compile failure is an answer on stdout too (its diagnostics), as check gives',
  );
  assert.equal(run(['test', 'record', '--dir', dir, '--format', 'json']).code, 64, 'record has no JSON form');
});

test('test: per-case principal, model, session, http and now', () => {
  const policy =
    'agent "a" {\n  default deny\n  rules {\n    permit x if principal.role == "ops" and model == "m" and session.id == "s" and host == "h.com" and time.hour == 9\n  }\n}\n';
  const fixture = {
    agent_id: 'a',
    cases: [
      {
        tool: 'x',
        principal: { role: 'ops' },
        model: 'm',
        session: 's',
        http: { host: 'h.com' },
        now: '2026-05-17T09:30:00Z',
        expect: { effect: 'PERMIT' },
      },
    ],
  };
  assert.match(run(['test', '--dir', stack({ 'p.fmtest.json': fixture }, policy)]).stdout, /1 passed, 0 failed/);
});

test('explain: every rule tried and why, then the decision', () => {
  const r = run([
    'explain',
    '--dir',
    EXAMPLE,
    '--agent',
    'support-bot',
    '--tool',
    'stripe/refund',
    '--args',
    '{"amount": 8000, "card": {"number": "4242"}}',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /args:\s+\{"amount":8000,"card":\{"number":"\[REDACTED\]"\}\}/);
  assert.match(r.stdout, /governance\.fms:18 .*permit stripe\/refund if amount < \$500.*→ no match \(condition false\)/);
  assert.match(r.stdout, /governance\.fms:20 .*→ match → DENY/);
  assert.match(
    r.stdout,
    /Effect:\s+DENY \(POLICY_DENY\)\nReason:\s+refunds over \$5000 are handled by finance\nRule ref:\s+governance\.fms:20/,
  );
});

test('explain: missing fields show as unknown; --format json carries the steps', () => {
  const r = run(['explain', '--dir', EXAMPLE, '--agent', 'support-bot', '--tool', 'stripe/refund', '--format', 'json']);
  const out = JSON.parse(r.stdout) as { rules: { result: string }[]; decision: { effect: string } };
  assert.match(out.rules[0]!.result, /unknown/);
  assert.equal(out.decision.effect, 'DENY');
});

test('explain: bad --args is a clear usage error', () => {
  const r = run(['explain', '--dir', EXAMPLE, '--agent', 'a', '--tool', 't', '--args', '{oops']);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /--args is not valid JSON/);
});

test('explain: a kind it does not know, or a kind without its id, is a usage error that says which', () => {
  const bogus = run(['explain', 'bogus', '123', '--dir', EXAMPLE]);
  assert.equal(bogus.code, 64);
  assert.match(bogus.stderr, /'bogus' is not one of decision, approval, agent, rule, run/);
  const bare = run(['explain', 'agent', '--dir', EXAMPLE]);
  assert.equal(bare.code, 64);
  assert.match(bare.stderr, /explain agent needs exactly one agent id/);
});
