/** `faramesh test record`: fixtures from a real daemon's log, which `faramesh test` then passes and later catches changes with. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeTextFrame, walkFrames } from '@faramesh/audit';
import { makeStack, POLICY, sleep } from './daemon-helpers.js';

const policy = POLICY.replace(
  '    deny!  stripe/payouts reason "platform team only"\n',
  '    deny!  stripe/payouts reason "platform team only"\n    permit email/send if args.to == "ops@corp.example"\n',
).replace('agent "bot" {', 'agent "helper" {\n  default deny\n  rules {\n    permit ticket/read\n  }\n}\n\nagent "bot" {');

test('test record writes the decisions the log can vouch for without arguments; faramesh test passes them, then catches a change', async () => {
  const s = makeStack(policy);
  try {
    assert.equal(s.cli('apply').code, 0, 'apply');
    const bot = (tool: string, args: Record<string, unknown> = {}) => s.govern({ agent_id: 'bot', tool, args });
    await bot('ticket/read');
    await bot('ticket/read');
    const refund = await bot('stripe/refund', { amount: 80 });
    assert.equal(s.cli('approvals', 'approve', refund.defer_token!).code, 0);
    assert.equal((await bot('stripe/refund', { amount: 80 })).effect, 'PERMIT', 'the approved call runs');
    await bot('stripe/payouts');
    await bot('email/send', { to: 'ops@corp.example' });
    for (let i = 0; i < 3; i++) await bot('search');
    assert.equal((await bot('search')).reason_code, 'RATE_EXCEEDED');
    await s.govern({ agent_id: 'helper', tool: 'ticket/read', args: {} });

    const r = s.cli('test', 'record', '--since', '1h');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const botFile = join(s.dir, 'tests', 'recorded.bot.fmtest.json');
    const helperFile = join(s.dir, 'tests', 'recorded.helper.fmtest.json');
    assert.match(r.stdout, new RegExp(`✓ 4 cases for agent bot → ${botFile.replace(/\./g, '\\.')}`));
    assert.match(r.stdout, /✓ 1 case for agent helper/);
    const fixture = JSON.parse(readFileSync(botFile, 'utf8')) as {
      agent_id: string;
      cases: { name: string; tool: string; expect: unknown }[];
    };
    assert.equal(fixture.agent_id, 'bot');
    assert.deepEqual(
      fixture.cases.map((c) => [c.tool, c.expect]),
      [
        ['ticket/read', { effect: 'PERMIT' }],
        // The approved call was deferred by its rule: that is what is recorded.
        ['stripe/refund', { effect: 'DEFER', code: 'POLICY_DEFER' }],
        ['stripe/payouts', { effect: 'DENY', code: 'POLICY_DENY' }],
        ['search', { effect: 'PERMIT' }],
      ],
    );
    assert.equal(fixture.cases[0]!.name, 'ticket/read → PERMIT (seen 2×)');
    assert.equal(fixture.cases[3]!.name, 'search → PERMIT (seen 3×)');
    // What depends on arguments or on state is reported, not guessed.
    assert.match(r.stdout, /email\/send +1 +depends on args\.to/);
    assert.match(r.stdout, /search +1 +RATE_EXCEEDED decided it, not the rules/);
    assert.match(r.stdout, /11 decisions read \(last 1h\); 9 recorded as 5 cases\./);

    // The recorded fixtures pass against the policy that made them.
    const passed = s.cli('test');
    assert.equal(passed.code, 0, passed.stdout);
    assert.match(passed.stdout, /5 passed, 0 failed/);

    // Recording again does not overwrite without --force; one agent, one file named by --out.
    const again = s.cli('test', 'record', '--since', '1h');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists: pass --force/);
    const one = s.cli('test', 'record', '--agent', 'helper', '--out', 'tests/helper.fmtest.json');
    assert.equal(one.code, 0, one.stderr);
    assert.ok(existsSync(join(s.dir, 'tests', 'helper.fmtest.json')));
    assert.equal(s.cli('test', 'record', '--since', '1h', '--force').code, 0);

    // A policy change the fixtures cover fails them.
    writeFileSync(
      join(s.dir, 'governance.fms'),
      policy.replace('defer  stripe/refund reason "refunds need a human"', 'deny stripe/refund'),
    );
    const failed = s.cli('test');
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /✗ stripe\/refund → DEFER \(seen 2×\)/);
    assert.ok(existsSync(helperFile));

    assert.equal(s.cli('test', 'record', '--since', 'a while').code, 64);
    assert.equal(s.cli('test', 'record', '--out', 'tests/x.json').code, 64);
    const none = s.cli('test', 'record', '--agent', 'nobody', '--out', 'tests/n.fmtest.json');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no decisions in the last 24h/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

/** Rewrite every record of a stopped stack's log (frames re-encoded, so only the fields are wrong). */
function rewriteRecords(wal: string, mutate: (r: Record<string, unknown>) => void): void {
  for (const name of readdirSync(wal).filter((n) => /^seg-.*\.wal$/.test(n))) {
    const bytes = readFileSync(join(wal, name));
    const frames: Buffer[] = [];
    for (const step of walkFrames(bytes)) {
      if (step.kind !== 'frame') break;
      const text = step.payload.toString('utf8');
      const r = JSON.parse(text) as Record<string, unknown>;
      if (frames.length > 0) mutate(r);
      frames.push(encodeTextFrame(frames.length > 0 ? JSON.stringify(r) : text).frame);
    }
    const body = Buffer.concat(frames);
    const out = Buffer.alloc(Math.max(bytes.length, body.length));
    body.copy(out);
    writeFileSync(join(wal, name), out);
  }
}

test('test record: cases keep their session and must pass in sequence; agents never share a file; a damaged log is refused', async () => {
  const s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "team/a" {
  default deny
  session {
    idle_timeout = "1s"
  }
  rules {
    permit ticket/read
    permit search
  }
}

agent "team_a" {
  default deny
  budget session {
    max_calls = 1
  }
  rules {
    permit ticket/read
    permit search
  }
}
`);
  try {
    assert.equal(s.cli('apply').code, 0);
    const call = (agent: string, tool: string, session: string) => s.govern({ agent_id: agent, tool, args: {}, session_id: session });
    // One busy session, never idle for a second; its fixture keeps only each tool's latest call.
    assert.equal((await call('team/a', 'ticket/read', 'busy')).effect, 'PERMIT');
    for (let i = 0; i < 5; i++) {
      await sleep(400);
      assert.equal((await call('team/a', 'search', 'busy')).effect, 'PERMIT');
    }
    // One call per session, as the session budget allows.
    assert.equal((await call('team_a', 'ticket/read', 's1')).effect, 'PERMIT');
    assert.equal((await call('team_a', 'search', 's2')).effect, 'PERMIT');
    const r = s.cli('test', 'record', '--since', '1h');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Alone, search's latest call passes; after the fixture's ticket/read two seconds before, the session is idle too long.
    assert.match(r.stdout, /search +5 +after the fixture's earlier cases POLICY_DENY decides it \(shared rate or budget state\)/);
    const files = readdirSync(join(s.dir, 'tests')).sort();
    assert.equal(files.length, 2, 'one file per agent, though team/a and team_a spell alike');
    assert.match(files[0]!, /^recorded\.team_a-[0-9a-f]{8}\.fmtest\.json$/);
    assert.equal(files[1], 'recorded.team_a.fmtest.json');
    const casesOf = (f: string) =>
      (JSON.parse(readFileSync(join(s.dir, 'tests', f), 'utf8')) as { cases: { tool: string; session?: string }[] }).cases.map((c) => [
        c.tool,
        c.session,
      ]);
    assert.deepEqual(casesOf(files[0]!), [['ticket/read', 'busy']]);
    // Each case runs in its own recorded session, so the session budget of one call holds.
    assert.deepEqual(casesOf(files[1]!), [
      ['ticket/read', 's1'],
      ['search', 's2'],
    ]);
    const t = s.cli('test');
    assert.equal(t.code, 0, t.stdout);
    assert.match(t.stdout, /3 passed, 0 failed/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
  // A record whose fields were tampered with: refused, nothing written.
  rewriteRecords(join(s.dir, 'wal'), (r) => {
    if (r.type === 'decision' && r.agent_id === 'team_a') r.agent_id = 7;
  });
  const damaged = s.cli('test', 'record', '--since', '1h', '--out', 'tests/again.fmtest.json');
  assert.equal(damaged.code, 1);
  assert.match(damaged.stderr, /record \d+ is malformed: 'agent_id' must be a non-empty string \(run faramesh audit verify\)/);
  assert.ok(!existsSync(join(s.dir, 'tests', 'again.fmtest.json')));
});

test('test record: an --out it cannot write is an error (exit 1), not a crash', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0, 'apply');
    await s.govern({ agent_id: 'bot', tool: 'ticket/read', args: {} });
    // governance.fms is a file: no directory can be made there.
    const r = s.cli('test', 'record', '--out', 'governance.fms/recorded.fmtest.json');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /✗ .*governance\.fms\/recorded\.fmtest\.json could not be written/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
