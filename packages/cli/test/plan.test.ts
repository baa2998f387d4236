import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStack, POLICY, type Stack } from './daemon-helpers.js';

interface PlanJson {
  version: string;
  policy_version: string;
  baseline: { policy_version: string; source: string } | null;
  diff: Record<
    string,
    {
      added: { agent?: string; subject: string }[];
      removed: { subject: string }[];
      changed: { subject: string; old: string; new: string }[];
    }
  >;
  replay: {
    total: number;
    unchanged: number;
    log: string | null;
    transitions: Record<string, { tool: string; count: number }[]>;
    undetermined: { tool: string; count: number; effects: string[]; on: string[] }[];
  };
}

const planJson = (s: Stack, ...args: string[]): PlanJson => {
  const r = s.cli('plan', '--format', 'json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as PlanJson;
};

/** Every file under a directory with its size and mtime: what "plan writes nothing" is checked against. */
function snapshot(dir: string): string {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = join(d, e.name);
      if (e.isDirectory()) return walk(p);
      if (!e.isFile()) return [];
      const st = statSync(p);
      return [`${p} ${st.size} ${st.mtimeMs}`];
    });
  return walk(dir).sort().join('\n');
}

test('plan before any apply: every rule is new, there is no history, and nothing is written', () => {
  const s = makeStack();
  try {
    const before = snapshot(s.dir);
    const text = s.cli('plan');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /nothing applied yet/);
    assert.match(text.stdout, /\+ rule {2}permit ticket\/read/);
    assert.match(text.stdout, /\+ rule {2}deny! {2}stripe\/payouts reason "platform team only"/);
    assert.match(text.stdout, /\+ rate_limit "search": 3 per minute/);
    assert.match(text.stdout, /no audit log yet: nothing to replay/);
    assert.match(text.stdout, /\+ runtime wal_dir = "\.\/wal"/);
    const json = planJson(s);
    assert.equal(json.baseline, null);
    assert.equal(json.replay.log, null);
    assert.deepEqual(
      json.diff.rules!.added.map((r) => r.subject),
      [
        'permit ticket/read',
        'defer  stripe/refund reason "refunds need a human"',
        'deny!  stripe/payouts reason "platform team only"',
        'permit search',
      ],
    );
    assert.equal(snapshot(s.dir), before, 'plan wrote nothing');
  } finally {
    s.stop();
  }
});

test('plan replays the log under the edited policy: transitions by tool, calls its arguments decide, later stages', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    const call = (tool: string, args: Record<string, unknown> = {}) => s.govern({ agent_id: 'bot', tool, args });
    for (let i = 0; i < 3; i++) await call('search', { q: i });
    assert.equal((await call('search')).reason_code, 'RATE_EXCEEDED');
    await call('ticket/read');
    await call('wiki/read');
    const refund = await call('stripe/refund', { amount: 5 });
    assert.equal(s.cli('approvals', 'approve', refund.defer_token!).code, 0);
    assert.equal((await call('stripe/refund', { amount: 5 })).effect, 'PERMIT', 'the approved call runs');
    await call('stripe/payouts');

    // The same policy: everything unchanged, and --strict-replay passes.
    const same = planJson(s, '--strict-replay');
    assert.equal(same.baseline?.source, 'running');
    assert.equal(same.policy_version, same.baseline?.policy_version);
    assert.deepEqual(same.diff.rules, { added: [], removed: [], changed: [] });
    assert.equal(same.replay.total, 9);
    assert.equal(same.replay.unchanged, 9);

    writeFileSync(
      join(s.dir, 'governance.fms'),
      POLICY.replace('permit ticket/read', 'permit ticket/read if args.id > 100')
        .replace('defer  stripe/refund reason "refunds need a human"', 'permit stripe/refund')
        .replace('    permit search\n', '    defer  search\n    permit wiki/*\n'),
    );
    const before = snapshot(s.dir);
    const plan = planJson(s);
    const { replay } = plan;
    assert.equal(replay.total, 9);
    assert.deepEqual(replay.transitions, {
      permit_to_defer: [{ tool: 'search', count: 3 }],
      defer_to_permit: [{ tool: 'stripe/refund', count: 2 }],
      deny_to_permit: [{ tool: 'wiki/read', count: 1 }],
    });
    assert.deepEqual(replay.undetermined, [
      { tool: 'search', count: 1, effects: ['defer', 'deny'], on: ['RATE_EXCEEDED (not replayed)'] },
      { tool: 'ticket/read', count: 1, effects: ['permit', 'deny'], on: ['args.id'] },
    ]);
    assert.equal(replay.unchanged, 1, 'stripe/payouts: the same rules');
    assert.deepEqual(
      plan.diff.rules!.changed.map((c) => [c.subject, c.old, c.new]),
      [
        ['ticket/read', 'permit ticket/read', 'permit ticket/read if args.id > 100'],
        ['stripe/refund', 'defer  stripe/refund reason "refunds need a human"', 'permit stripe/refund'],
        ['search', 'permit search', 'defer  search'],
      ],
    );
    assert.deepEqual(
      plan.diff.rules!.added.map((r) => r.subject),
      ['permit wiki/*'],
    );

    const text = s.cli('plan', '--strict-replay');
    assert.equal(text.code, 2, 'the replay shows changes');
    assert.match(text.stdout, /permit→defer +3 +\(33\.3%\) +search × 3/);
    assert.match(text.stdout, /deny→permit +1 +\(11\.1%\) +wiki\/read × 1/);
    assert.match(text.stdout, /ticket\/read × 1 \(permit or deny: depends on args\.id\)/);
    assert.match(text.stdout, /~ rule {2}ticket\/read\n +old: permit ticket\/read\n +new: permit ticket\/read if args\.id > 100/);
    assert.equal(snapshot(s.dir), before, 'plan wrote nothing, not even to the log');
    assert.equal(JSON.parse(s.cli('status', '--format', 'json').stdout).daemon.policy_version, plan.baseline?.policy_version);

    // A narrower window leaves the older calls out.
    assert.equal(planJson(s, '--since', '1ms').replay.total, 0);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('plan refuses a bad window, a broken policy and a tampered applied policy, and says why', () => {
  const s = makeStack();
  try {
    const window = s.cli('plan', '--since', 'soon');
    assert.equal(window.code, 64);
    assert.match(window.stderr, /--since: 'soon' is not a duration/);
    // A window longer than the time since 1970 is the whole log, not an invalid time.
    const forever = s.cli('plan', '--since', '300000000d');
    assert.equal(forever.code, 0, forever.stderr);
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    const stopped = planJson(s);
    assert.equal(stopped.baseline?.source, 'applied', 'no daemon: the policy apply last signed');

    const compiled = join(s.dir, '.faramesh', 'governance.compiled.json');
    writeFileSync(compiled, readFileSync(compiled, 'utf8').replace('ticket/read', 'ticket/*'));
    const tampered = s.cli('plan');
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /the policy in force could not be read/);

    writeFileSync(join(s.dir, 'governance.fms'), 'agent "bot" {\n  rules {\n    permit\n  }\n}\n');
    const broken = s.cli('plan');
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /governance\.fms has errors/);
    const brokenJson = s.cli('plan', '--format', 'json');
    assert.equal(brokenJson.code, 1);
    assert.match((JSON.parse(brokenJson.stdout) as { error: string }).error, /does not compile/, 'stdout answers in JSON too');
  } finally {
    s.stop();
  }
});

test('plan: a call a limit decided, an operator denied, or a quiesced agent met is never shown as a rule change', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    const call = (tool: string, args: Record<string, unknown> = {}) => s.govern({ agent_id: 'bot', tool, args });
    for (let i = 0; i < 4; i++) await call('search', { q: i }); // the fourth is RATE_EXCEEDED
    const refund = await call('stripe/refund', { amount: 9 });
    assert.equal(s.cli('approvals', 'deny', refund.defer_token!, '--reason', 'no').code, 0);
    assert.equal((await call('stripe/refund', { amount: 9 })).reason_code, 'POLICY_DENY', 'the operator denied it');
    assert.equal(s.cli('agent', 'quiesce', 'bot').code, 0);
    assert.equal((await call('ticket/read')).effect, 'DENY');
    assert.equal(s.cli('agent', 'resume', 'bot').code, 0);

    // The same effects, other rules: the deferred-then-denied refund was deferred by its rule.
    writeFileSync(
      join(s.dir, 'governance.fms'),
      POLICY.replace('permit ticket/read', 'permit ticket/read if time.hour >= 0')
        .replace('defer  stripe/refund reason "refunds need a human"', 'defer  stripe/refund if time.hour >= 0')
        .replace('  rate_limit "search": 3 per minute\n', ''),
    );
    const { replay } = planJson(s);
    assert.equal(replay.total, 7);
    assert.deepEqual(replay.transitions, {}, JSON.stringify(replay));
    assert.deepEqual(
      replay.undetermined.map((u) => [u.tool, u.count, u.effects.join('|'), u.on.join('; ')]),
      [
        [
          'search',
          4,
          'permit|deny',
          'RATE_EXCEEDED (not replayed); its rate limits, budgets, egress or grants changed (their state is not replayed)',
        ],
        ['ticket/read', 1, 'permit|deny', 'a refusal before the policy (a quiesced agent) (not replayed)'],
      ],
    );
    assert.equal(replay.unchanged, 2, 'the refund and its denied retry: deferred before, deferred now');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
