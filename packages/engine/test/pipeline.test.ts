import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, decide, emptyState, giveBack, valuesOf } from '../src/index.js';
import { priceUsage } from '../src/stages/pricing.js';
import { agent, outcome, policy, Session, T0 } from './support.js';

describe('rule match', () => {
  const p = policy(agent('  rules {\n    permit stripe/refund\n    deny stripe/*\n    permit **\n  }'));
  test('first match wins', () => assert.equal(outcome(new Session(p).call({ tool: 'stripe/refund' })), 'PERMIT'));
  test('glob', () => assert.equal(outcome(new Session(p).call({ tool: 'stripe/payouts' })), 'DENY/POLICY_DENY'));
  test('double star', () => assert.equal(outcome(new Session(p).call({ tool: 'a/b/c' })), 'PERMIT'));
  test('rule_ref and resolution of a deny', () => {
    const d = new Session(p).call({ tool: 'stripe/payouts' });
    assert.equal(d.rule_ref, 'governance.fms:5');
    assert.deepEqual(d.resolution, { type: 'rule_block', rule_id: 'governance.fms:5' });
  });
  test('tool ids are case-sensitive', () =>
    assert.equal(
      outcome(new Session(policy(agent('  rules {\n    permit Stripe/refund\n  }'))).call({ tool: 'stripe/refund' })),
      'DENY/POLICY_DENY',
    ));
  test('a reason becomes the human message', () => {
    const d = new Session(policy(agent('  rules {\n    deny x reason "no x here"\n  }'))).call({ tool: 'x' });
    assert.equal(d.human_message, 'no x here');
  });
  test('default permit', () =>
    assert.equal(new Session(policy('agent "bot" {\n  default permit\n}\n')).call({ tool: 'anything' }).effect, 'PERMIT'));
  test('absent default denies', () =>
    assert.equal(new Session(policy('agent "bot" {\n  rules {\n    permit a\n  }\n}\n')).call({ tool: 'b' }).effect, 'DENY'));
  test('defer code and resolution', () => {
    const d = new Session(policy(agent('  rules {\n    defer x\n  }'))).call({ tool: 'x' });
    assert.equal(outcome(d), 'DEFER/POLICY_DEFER');
    assert.equal(d.resolution?.type, 'pending_approval');
  });
});

describe('identity', () => {
  const p = policy('permit search_docs\nagent "known" {\n  default deny\n}\n');
  test('an agent without a block gets the top-level rules', () =>
    assert.equal(new Session(p).call({ tool: 'search_docs' }, 'stranger').effect, 'PERMIT'));
  test('a declared agent does not', () => assert.equal(new Session(p).call({ tool: 'search_docs' }, 'known').effect, 'DENY'));
  test('no flat rules: unknown agents are denied', () => {
    const d = new Session(policy(agent('  rules {\n    permit x\n  }'))).call({ tool: 'x' }, 'nobody');
    assert.equal(outcome(d), 'DENY/POLICY_DENY');
    assert.match(d.human_message!, /not declared/);
  });
  for (const bad of [
    '',
    'a//b',
    '/a',
    'a/',
    'a/./b',
    'a/../b',
    'a\u0000b',
    'a\nb',
    'a/b\u0085',
    'a\u009bb',
    'a/b ',
    ' a/b',
    'a b',
    'a/b\u200b',
    'a/\u00a0b',
    'a/b\u2028',
    'a\ufeff/b',
    'a/b\ufe0f',
    'a/b\u034f',
    'a/\u3164b',
    'a/b\uffa0',
    'a/b\u180b',
    'a/b\u{e0100}',
  ]) {
    test(`tool id ${JSON.stringify(bad)} is denied before matching`, () => {
      const d = new Session(policy(agent('  rules {\n    permit **\n  }'))).call({ tool: bad });
      assert.equal(outcome(d), 'DENY/POLICY_DENY');
    });
  }
  test('tool ids are NFC-normalised', () =>
    assert.equal(new Session(policy(agent('  rules {\n    permit \u00e9crire\n  }'))).call({ tool: 'e\u0301crire' }).effect, 'PERMIT'));
  test('malformed requests never throw', () => {
    const p2 = policy(agent('  rules {\n    permit **\n  }'));
    for (const req of [
      null,
      undefined,
      5,
      'x',
      {},
      { agent_id: 5 },
      { agent_id: 'bot', tool: 7 },
      { agent_id: 'bot', tool: 'a', args: 'no' },
      { agent_id: 'bot', tool: 'a', args: { __proto__: { x: 1 } } },
    ]) {
      const r = decide(p2, req as never, emptyState(), { nowMs: T0 });
      assert.ok(['PERMIT', 'DENY'].includes(r.decision.effect));
    }
    // A request the pipeline cannot read at all (here, arguments that throw when touched) is denied:
    // an error inside the engine never becomes a permit.
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
        ownKeys: () => {
          throw new Error('boom');
        },
        getOwnPropertyDescriptor: () => {
          throw new Error('boom');
        },
      },
    );
    const reads = policy(agent('  rules {\n    permit a if amount < 5\n    permit **\n  }'));
    const r = decide(reads, { agent_id: 'bot', tool: 'a', args: hostile }, emptyState(), { nowMs: T0 });
    assert.equal(r.decision.effect, 'DENY');
    assert.match(r.decision.human_message!, /the decision could not be computed \(boom\)/);
    assert.deepEqual(r.stateDelta, []);
  });
});

describe('rate limits', () => {
  const p = policy(
    agent(
      '  rules {\n    permit stripe/*\n    defer slow\n    deny blocked\n  }\n  rate_limit "stripe/*": 2 per minute\n  rate_limit "slow": 1 per hour\n  rate_limit "blocked": 1 per hour',
    ),
  );
  test('a bucket empties, then refills at n per window', () => {
    const s = new Session(p);
    assert.equal(s.call({ tool: 'stripe/a' }).effect, 'PERMIT');
    assert.equal(s.call({ tool: 'stripe/b' }).effect, 'PERMIT');
    const d = s.call({ tool: 'stripe/a' });
    assert.equal(outcome(d), 'DENY/RATE_EXCEEDED');
    assert.deepEqual(d.resolution, { type: 'retry_after', retry_after_seconds: 30 });
    s.advance(30);
    assert.equal(s.call({ tool: 'stripe/a' }).effect, 'PERMIT');
  });
  test('deferred calls take a token', () => {
    const s = new Session(p);
    assert.equal(s.call({ tool: 'slow' }).effect, 'DEFER');
    assert.equal(outcome(s.call({ tool: 'slow' })), 'DENY/RATE_EXCEEDED');
  });
  test('a deny by rule takes nothing', () => {
    const s = new Session(p);
    s.call({ tool: 'blocked' });
    assert.deepEqual(s.state.buckets, {});
  });
  test('two limits on one pattern each bind (a burst limit beside a daily one)', () => {
    const both = policy(
      agent('  rules {\n    permit stripe/*\n  }\n  rate_limit "stripe/*": 3 per minute\n  rate_limit "stripe/*": 1000 per day'),
    );
    const s = new Session(both);
    for (let i = 0; i < 3; i++) assert.equal(s.call({ tool: 'stripe/charge' }).effect, 'PERMIT');
    assert.equal(outcome(s.call({ tool: 'stripe/charge' })), 'DENY/RATE_EXCEEDED');
    const daily = policy(agent('  rules {\n    permit x\n  }\n  rate_limit "x": 100 per second\n  rate_limit "x": 2 per day'));
    const t = new Session(daily);
    assert.equal(t.call({ tool: 'x' }).effect, 'PERMIT');
    assert.equal(t.call({ tool: 'x' }).effect, 'PERMIT');
    assert.equal(outcome(t.call({ tool: 'x' })), 'DENY/RATE_EXCEEDED');
  });
  test("a policy that adds or drops a second limit on a pattern keeps what the first limit's bucket holds", () => {
    const one = policy(agent('  rules {\n    permit pay\n  }\n  rate_limit "pay": 2 per hour'));
    const two = policy(agent('  rules {\n    permit pay\n  }\n  rate_limit "pay": 2 per hour\n  rate_limit "pay": 1000 per day'));
    const s = new Session(one);
    const call = (p: typeof one) => {
      const r = decide(p, { agent_id: 'bot', tool: 'pay' }, s.state, { nowMs: s.now });
      applyDelta(s.state, r.stateDelta);
      return outcome(r.decision);
    };
    assert.equal(call(one), 'PERMIT');
    assert.equal(call(one), 'PERMIT');
    assert.equal(call(one), 'DENY/RATE_EXCEEDED');
    // Hot swap: a daily limit is added beside the hourly one.
    assert.equal(call(two), 'DENY/RATE_EXCEEDED', 'the hourly bucket is still empty');
    // And dropped again.
    assert.equal(call(one), 'DENY/RATE_EXCEEDED');
    s.advance(1800);
    assert.equal(call(two), 'PERMIT', 'it refills at 2 per hour');
    assert.equal(call(two), 'DENY/RATE_EXCEEDED');
  });
  test('buckets are per agent', () => {
    const two = policy(
      agent('  rules {\n    permit x\n  }\n  rate_limit "x": 1 per minute', 'a') +
        agent('  rules {\n    permit x\n  }\n  rate_limit "x": 1 per minute', 'b'),
    );
    const s = new Session(two);
    assert.equal(s.call({ tool: 'x' }, 'a').effect, 'PERMIT');
    assert.equal(s.call({ tool: 'x' }, 'b').effect, 'PERMIT');
    assert.equal(s.call({ tool: 'x' }, 'a').effect, 'DENY');
  });
});

describe('budgets', () => {
  test('a budget that denies is not passed over for an earlier one that audits or defers', () => {
    for (const soft of ['audit', 'defer']) {
      const p = policy(
        agent(
          `  rules {\n    permit **\n  }\n  budget soft {\n    max $5\n    on_exceed ${soft}\n  }\n  budget hard {\n    max $10\n    on_exceed deny\n  }`,
        ),
      );
      // $3 a call: the soft budget is past its $5 from the second call, the hard one would pass $10 on the fourth.
      // (A deferring budget is passed only under an approval.)
      const s = new Session(p);
      const out = [0, 1, 2, 3, 4].map(() => outcome(s.call({ tool: 'x', cost_usd: 3 }, 'bot', { approved: soft === 'defer' })));
      assert.deepEqual(out, ['PERMIT', 'PERMIT', 'PERMIT', 'DENY/BUDGET_EXCEEDED', 'DENY/BUDGET_EXCEEDED'], soft);
      assert.ok(
        Object.values(s.state.budgets).every((b) => b.spent_usd <= 10),
        `${soft}: the deny budget's $10 is never passed`,
      );
      // Both exceeded, no approval: a deny, not a deferral an operator could approve past the hard cap.
      assert.equal(outcome(s.call({ tool: 'x', cost_usd: 3 })), 'DENY/BUDGET_EXCEEDED', soft);
    }
  });
  test('ops read back from the log are checked (a counter replayed as NaN compares false against its cap)', async () => {
    const { isDeltaOp } = await import('../src/index.js');
    const p = policy(
      agent(
        '  rules {\n    permit x\n  }\n  budget daily {\n    max_calls 1\n  }\n  rate_limit "x": 5 per minute\n  session {\n    idle_timeout = "5m"\n  }',
      ),
    );
    const state = emptyState();
    const { stateDelta } = decide(p, { agent_id: 'bot', tool: 'x', session_id: 's1' }, state, { nowMs: T0 });
    const ops = JSON.parse(JSON.stringify(stateDelta)) as Record<string, unknown>[];
    assert.deepEqual(new Set(ops.map((op) => op.kind)), new Set(['bucket', 'budget', 'session']));
    for (const op of ops) assert.ok(isDeltaOp(op), JSON.stringify(op));
    const budget = ops.find((op) => op.kind === 'budget')!;
    for (const calls of ['1', null, -1, Infinity, undefined])
      assert.equal(isDeltaOp({ ...budget, calls }), false, `calls: ${String(calls)}`);
    assert.equal(isDeltaOp({ ...budget, key: 7 }), false);
    assert.equal(isDeltaOp({ ...budget, kind: 'constructor' }), false);
    assert.equal(isDeltaOp({ kind: 'spawn', key: 'bot', live: 1 }), true);
    assert.equal(isDeltaOp({ kind: 'spawn', key: 'bot', live: 'many' }), false);
  });
  test('an approved call runs as a permit: it spends, a budget that denies still denies, and one that defers lets it run', () => {
    const spend = (onExceed: string) =>
      new Session(policy(agent(`  rules {\n    defer refund\n  }\n  budget daily {\n    max $10\n    on_exceed ${onExceed}\n  }`)));
    const s = spend('deny');
    assert.equal(s.call({ tool: 'refund', cost_usd: 6 }).effect, 'DEFER', 'unapproved, it waits and spends nothing');
    assert.equal(s.call({ tool: 'refund', cost_usd: 6 }, 'bot', { approved: true }).effect, 'PERMIT');
    const over = s.call({ tool: 'refund', cost_usd: 6 }, 'bot', { approved: true });
    assert.deepEqual([over.effect, over.code], ['DENY', 'BUDGET_EXCEEDED'], 'the $6 spent counts: $12 is over the cap');
    const d = spend('defer');
    assert.equal(d.call({ tool: 'refund', cost_usd: 8 }, 'bot', { approved: true }).effect, 'PERMIT');
    assert.deepEqual([d.call({ tool: 'refund', cost_usd: 8 }).code], ['POLICY_DEFER']);
    const approvedOver = d.call({ tool: 'refund', cost_usd: 8 }, 'bot', { approved: true });
    assert.equal(approvedOver.effect, 'PERMIT', 'the operator approved spending past a budget that defers');
    assert.equal(approvedOver.signals.at(-1)?.code, 'BUDGET_EXCEEDED');
  });

  test('an approved call does not take a second rate token: its deferral took one', () => {
    const s = new Session(policy(agent('  rules {\n    defer refund\n    permit other\n  }\n  rate_limit "*": 1 per hour')));
    assert.equal(s.call({ tool: 'refund' }).effect, 'DEFER', 'the deferral takes the only token');
    assert.equal(outcome(s.call({ tool: 'refund' })), 'DENY/RATE_EXCEEDED', 'an unapproved retry is limited');
    assert.equal(s.call({ tool: 'refund' }, 'bot', { approved: true }).effect, 'PERMIT', 'the approved call runs');
    assert.equal(outcome(s.call({ tool: 'other' })), 'DENY/RATE_EXCEEDED', 'and took no token back for others');
  });
  test('max_calls counts permitted calls per UTC day; deny gives budget_reset', () => {
    const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max_calls 2\n  }')));
    s.call({ tool: 'x' });
    s.call({ tool: 'x' });
    const d = s.call({ tool: 'x' });
    assert.equal(outcome(d), 'DENY/BUDGET_EXCEEDED');
    assert.equal(d.budget_id, 'daily');
    assert.deepEqual(d.resolution, { type: 'budget_reset', resets_at: '2026-05-18T00:00:00Z' });
    s.advance(14 * 3600);
    assert.equal(s.call({ tool: 'x' }).effect, 'PERMIT', 'a new UTC day');
  });
  test('budgets are per agent, never pooled: two agents with the same budget id each have their own', () => {
    // Seed: "No cross-agent budget pooling in v2.0. Each agent's budget is independent."
    const body = '  rules {\n    permit x\n  }\n  budget daily {\n    max_calls 2\n    max $10\n  }';
    const s = new Session(policy(agent(body, 'a') + agent(body, 'b')));
    assert.equal(s.call({ tool: 'x', cost_usd: 6 }, 'a').effect, 'PERMIT');
    assert.equal(s.call({ tool: 'x', cost_usd: 1 }, 'a').effect, 'PERMIT');
    assert.equal(outcome(s.call({ tool: 'x' }, 'a')), 'DENY/BUDGET_EXCEEDED', "a's two calls are used up");
    assert.equal(s.call({ tool: 'x', cost_usd: 9 }, 'b').effect, 'PERMIT', "b's $10 is untouched by a's $7");
    assert.equal(s.call({ tool: 'x' }, 'b').effect, 'PERMIT', "b's two calls are its own");
    assert.equal(outcome(s.call({ tool: 'x' }, 'b')), 'DENY/BUDGET_EXCEEDED');
  });
  test('dollar budgets sum cost_usd; warn_at signals once when crossed', () => {
    const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max $10\n    warn_at 0.5\n  }')));
    assert.deepEqual(s.call({ tool: 'x', cost_usd: 4 }).signals, []);
    const crossing = s.call({ tool: 'x', cost_usd: 2 });
    assert.equal(crossing.effect, 'PERMIT');
    assert.equal(crossing.signals[0]?.code, 'BUDGET_WARNING');
    assert.deepEqual(s.call({ tool: 'x', cost_usd: 1 }).signals, []);
    assert.equal(outcome(s.call({ tool: 'x', cost_usd: 5 })), 'DENY/BUDGET_EXCEEDED');
  });
  test('model usage is priced by the bundled table', () => {
    const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max $1\n  }')));
    assert.equal(s.call({ tool: 'x', usage: { model: 'claude-sonnet-4', input_tokens: 100_000, output_tokens: 40_000 } }).effect, 'PERMIT');
    assert.equal(
      outcome(s.call({ tool: 'x', usage: { model: 'claude-sonnet-4', input_tokens: 100_000, output_tokens: 0 } })),
      'DENY/BUDGET_EXCEEDED',
    );
  });
  test('the table prices dated, routed and Bedrock spellings, and dearer variants at their own price', () => {
    const priced = (model: string, input: number, output: number) => priceUsage(model, input, output);
    assert.equal(priced('claude-sonnet-4-20250514', 1_000_000, 0), 3);
    assert.equal(priced('ANTHROPIC/Claude-Sonnet-4.5', 0, 1_000_000), 15);
    assert.equal(priced('us.anthropic.claude-3-5-haiku-20241022-v1:0', 1_000_000, 0), 0.8);
    assert.equal(priced('claude-3-5-sonnet-v2@20241022', 1_000_000, 0), 3);
    assert.equal(priced('o3-pro', 1_000_000, 0), 20, 'not o3');
    assert.equal(priced('o3-2025-04-16', 1_000_000, 0), 2);
    assert.equal(priced('gpt-4.5-preview', 1_000_000, 0), 75, 'not gpt-4');
    assert.equal(priced('gpt-4o-mini-2024-07-18', 1_000_000, 0), 0.15);
    assert.equal(priced('models/gemini-2.5-flash', 0, 1_000_000), 2.5);
    assert.equal(priced('claude-opus-4-5-20251101', 1_000_000, 0), 5, 'not claude-opus-4');
    assert.equal(priced('gpt-4oo', 1, 1), undefined, 'a name that only starts like an entry');
    assert.equal(priced('llama-3', 1, 1), undefined);
  });
  test('a cost the policy declares is charged when the call reports none or less; a dearer reported cost counts', () => {
    const p = policy(agent('  rules {\n    permit stripe/*\n  }\n  cost "stripe/*": $3\n  budget daily {\n    max $10\n  }'));
    const s = new Session(p);
    for (let i = 0; i < 3; i++) assert.equal(s.call({ tool: 'stripe/charge' }).effect, 'PERMIT');
    assert.equal(outcome(s.call({ tool: 'stripe/charge' })), 'DENY/BUDGET_EXCEEDED', '$9 spent, $3 more is over $10');
    assert.equal(outcome(s.call({ tool: 'stripe/charge', cost_usd: 0.5 })), 'DENY/BUDGET_EXCEEDED', 'no call costs less than declared');
    const dear = new Session(p);
    assert.equal(dear.call({ tool: 'stripe/charge', cost_usd: 8 }).effect, 'PERMIT');
    assert.equal(outcome(dear.call({ tool: 'stripe/charge' })), 'DENY/BUDGET_EXCEEDED', '$8 spent, $3 more is over $10');
  });
  test('on_exceed defer gives DEFER with BUDGET_EXCEEDED', () => {
    const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max_calls 1\n    on_exceed defer\n  }')));
    s.call({ tool: 'x' });
    assert.equal(outcome(s.call({ tool: 'x' })), 'DEFER/BUDGET_EXCEEDED');
  });
  test('on_exceed audit permits but flags', () => {
    const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max_calls 1\n    on_exceed audit\n  }')));
    s.call({ tool: 'x' });
    const d = s.call({ tool: 'x' });
    assert.equal(d.effect, 'PERMIT');
    assert.deepEqual(d.audit_flags, ['budget_exceeded:daily']);
  });
  test('session budgets are per session id', () => {
    const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  budget session {\n    max_calls 1\n  }')));
    assert.equal(s.call({ tool: 'x', session_id: 'a' }).effect, 'PERMIT');
    assert.equal(s.call({ tool: 'x', session_id: 'a' }).effect, 'DENY');
    assert.equal(s.call({ tool: 'x', session_id: 'b' }).effect, 'PERMIT');
  });
  test('deferred and denied calls spend nothing', () => {
    const s = new Session(policy(agent('  rules {\n    defer x\n  }\n  budget daily {\n    max_calls 1\n  }')));
    s.call({ tool: 'x' });
    assert.deepEqual(s.state.budgets, {});
  });
});

describe('egress', () => {
  const p = policy(
    agent(
      '  rules {\n    permit **\n  }\n  egress {\n    allow = ["api.stripe.com", "*.example.com", "bücher.de", "[::1]"]\n    deny = ["evil.example.com"]\n  }',
    ),
  );
  const cases: [Record<string, unknown>, string][] = [
    [{ url: 'https://api.stripe.com/v1/charges' }, 'PERMIT'],
    [{ url: 'https://API.Stripe.COM./v1' }, 'PERMIT'],
    [{ url: 'https://user:pw@api.stripe.com:8443/x' }, 'PERMIT'],
    [{ host: 'docs.example.com' }, 'PERMIT'],
    [{ host: 'example.com' }, 'DENY/EGRESS_DENIED'],
    // A look-alike that ends with the same letters but is no subdomain.
    [{ host: 'badexample.com' }, 'DENY/EGRESS_DENIED'],
    [{ host: 'a.badexample.com' }, 'DENY/EGRESS_DENIED'],
    [{ host: 'evil.example.com' }, 'DENY/EGRESS_DENIED'],
    [{ endpoint: 'https://xn--bcher-kva.de/' }, 'PERMIT'],
    [{ base_url: 'https://bücher.de' }, 'PERMIT'],
    [{ url: 'http://[::1]:8080/' }, 'PERMIT'],
    [{ url: 'https://api.stripe.com.evil.net/' }, 'DENY/EGRESS_DENIED'],
    [{ url: 'not a url at all' }, 'DENY/EGRESS_DENIED'],
    // The URL parser ends the host at `\`; curl reads `api.stripe.com\` as a user name and goes to evil.net.
    [{ url: 'https://api.stripe.com\\@evil.net/x' }, 'DENY/EGRESS_DENIED'],
    [{ url: 'https://api.stripe.com:443\\@evil.net/' }, 'DENY/EGRESS_DENIED'],
    [{ host: 'api.stripe.com\\@evil.net' }, 'DENY/EGRESS_DENIED'],
    [{ url: 'https://api.stripe.com/a\\b' }, 'PERMIT'],
    [{ url: 'https://docs.example.com\\@evil.example.com/' }, 'DENY/EGRESS_DENIED'],
    // fetch(["https://evil.com"]) and fetch({ toString }) go to evil.com: a destination that is not a string is not a host.
    [{ url: ['https://evil.example.com/'] }, 'DENY/EGRESS_DENIED'],
    [{ url: { href: 'https://evil.example.com/' } }, 'DENY/EGRESS_DENIED'],
    [{ url: ['https://evil.example.com/'], host: 'api.stripe.com' }, 'DENY/EGRESS_DENIED'],
    // Which destination argument the tool reads is the tool's business: every one present must pass.
    [{ url: 'https://api.stripe.com/', base_url: 'https://evil.net' }, 'DENY/EGRESS_DENIED'],
    [{ host: 'api.stripe.com', endpoint: 'https://evil.net/x' }, 'DENY/EGRESS_DENIED'],
    [{ url: 'https://api.stripe.com/v1', host: 'API.stripe.com.' }, 'PERMIT'],
    [{}, 'PERMIT'],
  ];
  for (const [args, expected] of cases)
    test(`${JSON.stringify(args)} → ${expected}`, () => assert.equal(outcome(new Session(p).call({ tool: 'http/get', args })), expected));
  test('the HTTP host wins over arguments', () =>
    assert.equal(
      outcome(new Session(p).call({ tool: 'http/get', http: { host: 'evil.example.com' }, args: { url: 'https://api.stripe.com' } })),
      'DENY/EGRESS_DENIED',
    ));
});

describe('an IPv6 host as a CONNECT line gives it (no brackets)', () => {
  // The forward proxy's CONNECT `[2606:4700:4700::1111]:443` reaches the policy as `2606:4700:4700::1111`;
  // a plain `http://[2606:4700:4700::1111]/` as `[2606:4700:4700::1111]`. Both name one host.
  const v6 = '2606:4700:4700::1111';
  const deny = policy(agent(`  rules {\n    deny http/connect host "[${v6}]"\n    permit http/connect\n  }`));
  const allow = policy(agent(`  rules {\n    permit http/connect\n  }\n  egress {\n    allow = ["[${v6}]"]\n  }`));
  const call = (p: typeof deny, host: string) =>
    outcome(new Session(p).call({ tool: 'http/connect', http: { host, method: 'CONNECT', addresses: [v6] }, args: { host, port: 443 } }));
  test('a host clause naming it matches, bracketed or not', () => {
    assert.equal(call(deny, `[${v6}]`), 'DENY/POLICY_DENY');
    assert.equal(call(deny, v6), 'DENY/POLICY_DENY');
  });
  test('egress allow naming it lets it through, bracketed or not', () => {
    assert.equal(call(allow, `[${v6}]`), 'PERMIT');
    assert.equal(call(allow, v6), 'PERMIT');
  });
});

describe('model policy', () => {
  const p = policy(agent('  rules {\n    permit **\n  }\n  model_policy {\n    allow = ["claude-sonnet-4"]\n  }'));
  test('allowed model', () => assert.equal(new Session(p).call({ tool: 'x', model: 'claude-sonnet-4' }).effect, 'PERMIT'));
  test('other model', () => {
    const d = new Session(p).call({ tool: 'x', model: 'gpt-3.5-turbo' });
    assert.equal(outcome(d), 'DENY/MODEL_DENIED');
    assert.deepEqual(d.resolution, { type: 'rule_block', rule_id: 'model_policy' });
  });
  test("an entry covers its model's snapshots and spellings, not its variants", () => {
    const effect = (model: string) => outcome(new Session(p).call({ tool: 'x', model }));
    for (const m of [
      'claude-sonnet-4-20250514',
      'Claude-Sonnet-4',
      'anthropic/claude-sonnet-4',
      'us.anthropic.claude-sonnet-4-20250514-v1:0',
      'claude-sonnet-4@20250514',
    ])
      assert.equal(effect(m), 'PERMIT', m);
    for (const m of ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929', 'claude-sonnet-40', 'claude-sonnet-4-evil'])
      assert.equal(effect(m), 'DENY/MODEL_DENIED', m);
  });
  test('a deny entry is not bypassed by case, a provider prefix or a dated name; * covers a family', () => {
    const deny = policy(agent('  rules {\n    permit **\n  }\n  model_policy {\n    deny = ["gpt-4o", "claude-opus-*"]\n  }'));
    const effect = (model: string) => outcome(new Session(deny).call({ tool: 'x', model }));
    for (const m of ['GPT-4o', 'openai/gpt-4o', 'gpt-4o-2024-08-06', 'claude-opus-4-1', 'anthropic/claude-opus-4.5'])
      assert.equal(effect(m), 'DENY/MODEL_DENIED', m);
    for (const m of ['gpt-4o-mini', 'claude-sonnet-4']) assert.equal(effect(m), 'PERMIT', m);
  });
  test("a deny entry covers the provider's own aliases and older snapshot spellings", () => {
    const deny = policy(
      agent('  rules {\n    permit **\n  }\n  model_policy {\n    deny = ["claude-opus-4", "gpt-4", "gemini-1.5-pro"]\n  }'),
    );
    const effect = (model: string) => outcome(new Session(deny).call({ tool: 'x', model }));
    // Anthropic's alias of claude-opus-4-20250514; OpenAI's MMDD snapshots; Gemini's stable versions.
    for (const m of ['claude-opus-4-0', 'gpt-4-0613', 'gpt-4-0314', 'gemini-1.5-pro-002']) assert.equal(effect(m), 'DENY/MODEL_DENIED', m);
    for (const m of ['claude-opus-4-1', 'gpt-4o', 'gpt-4-turbo']) assert.equal(effect(m), 'PERMIT', m);
  });
  test("both the call's model and its usage's are checked", () => {
    const d = new Session(p).call({ tool: 'x', model: 'claude-sonnet-4', usage: { model: 'claude-opus-4', input_tokens: 1 } });
    assert.equal(outcome(d), 'DENY/MODEL_DENIED');
    assert.match(d.human_message ?? '', /claude-opus-4/);
  });
  test('an entry with a path names a router and is compared whole', () => {
    const routed = policy(agent('  rules {\n    permit **\n  }\n  model_policy {\n    allow = ["openrouter/*"]\n  }'));
    assert.equal(outcome(new Session(routed).call({ tool: 'x', model: 'OpenRouter/anthropic/claude-sonnet-4' })), 'PERMIT');
    assert.equal(outcome(new Session(routed).call({ tool: 'x', model: 'anthropic/claude-sonnet-4' })), 'DENY/MODEL_DENIED');
  });
});

describe('redaction', () => {
  const p = policy(
    agent('  rules {\n    permit **\n  }\n  redact pay args: ["card.number", "items[*].cvv", ".env", "headers.authorization"]'),
  );
  test('nested, wildcard and literal-key paths are masked; others kept', () => {
    const d = new Session(p).call({
      tool: 'pay',
      args: {
        card: { number: '4242', brand: 'visa' },
        items: [{ cvv: '1', sku: 'a' }, { cvv: '2' }],
        '.env': 'SECRET=1',
        headers: { authorization: 'Bearer x' },
      },
    });
    assert.deepEqual(d.redacted_args, {
      card: { number: '[REDACTED]', brand: 'visa' },
      items: [{ cvv: '[REDACTED]', sku: 'a' }, { cvv: '[REDACTED]' }],
      '.env': '[REDACTED]',
      headers: { authorization: '[REDACTED]' },
    });
  });
  test('a key named __proto__ is copied as a key, at any depth, never made the prototype of the copy', () => {
    const args = JSON.parse('{"card":{"number":"4242","__proto__":{"admin":true}},"__proto__":{"amount":999999}}') as Record<
      string,
      unknown
    >;
    const d = new Session(p).call({ tool: 'pay', args });
    const r = d.redacted_args as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(r), Object.prototype);
    assert.ok(Object.hasOwn(r, '__proto__'), 'kept as an own key');
    assert.equal(r.amount, undefined, 'nothing is read through a planted prototype');
    assert.equal(
      JSON.stringify(r),
      '{"card":{"number":"[REDACTED]","__proto__":{"admin":true}},"__proto__":{"amount":999999}}',
      'the redacted copy is the arguments, masked: what the log hashes and the approver sees',
    );
  });
  test('a literal dotted key does not shield the nested path it also names', () => {
    const d = new Session(p).call({ tool: 'pay', args: { 'card.number': 'x', card: { number: '4242424242424242', brand: 'visa' } } });
    assert.deepEqual(d.redacted_args, { 'card.number': '[REDACTED]', card: { number: '[REDACTED]', brand: 'visa' } });
  });
  test('other tools are not redacted', () =>
    assert.deepEqual(new Session(p).call({ tool: 'other', args: { card: { number: '1' } } }).redacted_args, { card: { number: '1' } }));
  test('redaction also applies to denied calls', () => {
    const q = policy(agent('  rules {\n    deny pay\n  }\n  redact pay args: ["card"]'));
    assert.deepEqual(new Session(q).call({ tool: 'pay', args: { card: '1' } }).redacted_args, { card: '[REDACTED]' });
  });
});

describe('alerts', () => {
  const p = policy(
    agent(
      '  rules {\n    permit ok\n    deny no\n  }\n  rate_limit "ok": 1 per hour\n  alert {\n    on = "deny"\n    notify = "slack://#sec"\n  }\n  alert {\n    on = "rate_exceeded"\n    notify = "pagerduty://x"\n  }',
    ),
  );
  test('deny alerts fire on denials', () =>
    assert.deepEqual(new Session(p).call({ tool: 'no' }).alerts, [{ on: 'deny', notify: 'slack://#sec' }]));
  test('no alert on a plain permit', () => assert.deepEqual(new Session(p).call({ tool: 'ok' }).alerts, []));
  test('a refusal before the rules (a malformed tool id) fires the declared agent its deny alerts too', () => {
    for (const tool of ['ticket/a//b', '/x', 'a/../b']) {
      const d = new Session(p).call({ tool });
      assert.equal(d.effect, 'DENY', tool);
      assert.deepEqual(d.alerts, [{ on: 'deny', notify: 'slack://#sec' }], tool);
    }
  });
  test('rate alerts', () => {
    const s = new Session(p);
    s.call({ tool: 'ok' });
    assert.deepEqual(
      s.call({ tool: 'ok' }).alerts.map((a) => a.on),
      ['rate_exceeded', 'deny'],
    );
  });
  test("a rule's own notify fires whenever that rule decides", () => {
    const q = policy(
      agent('  rules {\n    permit big notify "webhook://hooks.example/big"\n    deny no notify "pagerduty://k"\n    permit ok\n  }'),
    );
    assert.deepEqual(new Session(q).call({ tool: 'big' }).alerts, [{ on: 'permit', notify: 'webhook://hooks.example/big' }]);
    assert.deepEqual(new Session(q).call({ tool: 'no' }).alerts, [{ on: 'deny', notify: 'pagerduty://k' }]);
    assert.deepEqual(new Session(q).call({ tool: 'ok' }).alerts, []);
  });
});

describe('sessions, phases, selectors, delegation', () => {
  test('session idle timeout and max duration', () => {
    const s = new Session(
      policy(agent('  rules {\n    permit x\n  }\n  session {\n    max_duration = "30m"\n    idle_timeout = "5m"\n  }')),
    );
    assert.equal(s.call({ tool: 'x', session_id: 's' }).effect, 'PERMIT');
    s.advance(240);
    assert.equal(s.call({ tool: 'x', session_id: 's' }).effect, 'PERMIT');
    s.advance(301);
    assert.match(s.call({ tool: 'x', session_id: 's' }).human_message!, /idle/);
    const t = new Session(s.p);
    // Active every 4 minutes (never idle), until 30 minutes after its first call.
    for (let i = 0; i <= 7; i++) {
      assert.equal(t.call({ tool: 'x', session_id: 'long' }).effect, 'PERMIT', `call ${i}`);
      t.advance(240);
    }
    assert.match(t.call({ tool: 'x', session_id: 'long' }).human_message!, /max_duration/);
  });
  test('sessions are kept only where something reads them: session bounds, or a rule on session.*', () => {
    const plain = new Session(policy(agent('  rules {\n    permit x\n  }')));
    for (let i = 0; i < 50; i++) plain.call({ tool: 'x', session_id: `mcp-${i}` });
    assert.deepEqual(plain.state.sessions, {}, 'no session state grows for a policy that never reads it');
    const reading = new Session(policy(agent('  rules {\n    deny x if session.idle_s > 60\n    permit x\n  }')));
    assert.equal(reading.call({ tool: 'x', session_id: 's' }).effect, 'PERMIT');
    reading.advance(61);
    assert.equal(reading.call({ tool: 'x', session_id: 's' }).effect, 'DENY', 'session.idle_s still reads the session');
  });
  test('phases: phase rules apply first while the phase lasts', () => {
    const s = new Session(
      policy(
        agent(
          '  phase "audit-only" {\n    duration = "24h"\n    next = "enforce"\n    rules {\n      permit stripe/charge\n    }\n  }\n  rules {\n    deny stripe/charge\n  }',
        ),
      ),
    );
    s.state.policy_applied_ms = T0;
    assert.equal(s.call({ tool: 'stripe/charge' }).effect, 'PERMIT');
    s.advance(24 * 3600 + 1);
    assert.equal(s.call({ tool: 'stripe/charge' }).effect, 'DENY');
  });
  test('selectors: value from state; unavailable → on_unavailable; timeout → on_timeout', () => {
    const p = policy(
      agent(
        '  selector "user_role" {\n    source = "https://idp/role"\n    cache = "5m"\n    on_unavailable = "defer"\n    on_timeout = "deny"\n  }\n  rules {\n    permit pay if user_role == "ops"\n  }',
      ),
    );
    const s = new Session(p);
    assert.equal(outcome(s.call({ tool: 'pay' })), 'DEFER/POLICY_DEFER');
    s.state.selectors['bot\u0000user_role'] = { value: 'ops', fetched_ms: T0 };
    assert.equal(s.call({ tool: 'pay' }).effect, 'PERMIT');
    s.advance(301);
    assert.equal(s.call({ tool: 'pay' }).effect, 'DEFER', 'a stale cache is unavailable');
    s.state.selectors['bot\u0000user_role'] = { error: 'timeout', fetched_ms: s.now };
    assert.equal(s.call({ tool: 'pay' }).effect, 'DENY');
  });
  test("a selector's defer fallback says the selector is why, not the reason of the rule that reads it", () => {
    const p = policy(
      agent(
        '  selector "user_role" {\n    source = "https://idp/role"\n    on_timeout = "defer"\n  }\n  rules {\n    deny crm/read if user_role == "guest" reason "guests may not read the CRM"\n    permit crm/read\n  }',
      ),
    );
    const s = new Session(p);
    s.state.selectors['bot\u0000user_role'] = { error: 'timeout', fetched_ms: T0 };
    const d = s.call({ tool: 'crm/read' });
    assert.equal(outcome(d), 'DEFER/POLICY_DEFER');
    assert.match(d.human_message ?? '', /selector 'user_role' is timeout/);
  });
  test('spawn: allowed types and max_concurrent live children; a child ending frees a slot', async () => {
    const { spawnEnded, applyDelta } = await import('../src/index.js');
    const s = new Session(
      policy(
        agent(
          '  rules {\n    permit spawn/*\n    permit task/start\n  }\n  spawn {\n    max_concurrent = 2\n    allowed_types = ["analyst", "researcher"]\n  }',
        ),
      ),
    );
    assert.equal(s.call({ tool: 'spawn/analyst' }).effect, 'PERMIT');
    assert.equal(s.call({ tool: 'task/start', action: 'spawn', args: { type: 'researcher' } }).effect, 'PERMIT');
    assert.match(s.call({ tool: 'spawn/analyst' }).human_message!, /max_concurrent 2/);
    assert.match(s.call({ tool: 'spawn/hacker' }).human_message!, /may not spawn 'hacker'/);
    applyDelta(s.state, spawnEnded(s.state, 'bot'));
    assert.equal(s.call({ tool: 'spawn/analyst' }).effect, 'PERMIT');
    assert.equal(s.call({ tool: 'task/start' }).effect, 'PERMIT', 'not a spawn');
  });
  test('spawn: max_concurrent holds for agents named like Object.prototype members (__proto__, constructor)', () => {
    for (const id of ['__proto__', 'constructor', 'toString']) {
      const s = new Session(policy(agent('  rules {\n    permit spawn/*\n  }\n  spawn {\n    max_concurrent = 1\n  }', id)));
      // The first spawn creates the table of live children; the second must find its own entry there.
      assert.equal(s.call({ tool: 'spawn/analyst' }, id).effect, 'PERMIT', id);
      const second = s.call({ tool: 'spawn/analyst' }, id);
      assert.equal(second.effect, 'DENY', `${id}: a second live child`);
      assert.match(second.human_message!, /already has 1 live children/);
      assert.equal(s.state.spawns?.[id], 1);
    }
  });
  test('delegation: allowed target, ttl and ceiling', () => {
    const p = policy(
      agent('  delegate {\n    target_agent = "researcher"\n    ttl = "10m"\n    ceiling = "defer"\n  }', 'orchestrator') +
        agent('  rules {\n    permit web/fetch\n  }', 'researcher'),
    );
    const s = new Session(p);
    const chain = [{ agent_id: 'orchestrator', issued_at: new Date(T0).toISOString() }];
    assert.equal(
      outcome(s.call({ tool: 'web/fetch', delegation_chain: chain }, 'researcher')),
      'DEFER/POLICY_DEFER',
      'capped at the ceiling',
    );
    assert.equal(s.call({ tool: 'web/fetch' }, 'researcher').effect, 'PERMIT', 'undelegated');
    assert.match(
      s.call({ tool: 'web/fetch', delegation_chain: [{ agent_id: 'writer' }] }, 'researcher').human_message!,
      /may not delegate/,
    );
    s.advance(601);
    assert.match(s.call({ tool: 'web/fetch', delegation_chain: chain }, 'researcher').human_message!, /expired/);
  });
  test('delegation: a ceiling of deny denies, and spends nothing', () => {
    const p = policy(
      agent('  delegate {\n    target_agent = "writer"\n    ceiling = "deny"\n  }', 'orchestrator') +
        agent('  rules {\n    permit fs/write\n  }\n  budget daily {\n    max_calls 5\n  }\n  rate_limit "fs/*": 5 per minute', 'writer'),
    );
    const s = new Session(p);
    const chain = [{ agent_id: 'orchestrator', issued_at: new Date(T0).toISOString() }];
    const d = s.call({ tool: 'fs/write', delegation_chain: chain }, 'writer');
    assert.equal(outcome(d), 'DENY/POLICY_DENY', 'capped at the ceiling');
    assert.deepEqual(d.resolution, { type: 'rule_block', rule_id: 'delegate' });
    assert.deepEqual(s.state.budgets, {});
    assert.deepEqual(s.state.buckets, {});
    assert.equal(s.call({ tool: 'fs/write' }, 'writer').effect, 'PERMIT', 'undelegated');
  });
});

test("delegation scope: a delegated call outside any hop's scope is denied; undelegated calls are the worker's own", () => {
  const p = policy(
    agent('  delegate {\n    target_agent = "researcher"\n    scope = ["web/*", "docs/read"]\n  }', 'orchestrator') +
      agent('  delegate {\n    target_agent = "writer"\n    scope = "docs/*"\n  }\n  rules {\n    permit **\n  }', 'researcher') +
      agent('  rules {\n    permit **\n  }', 'writer') +
      agent('  rules {\n    permit web/fetch\n    permit fs/write\n  }', 'researcher2'),
  );
  const s = new Session(p);
  const now = new Date(T0).toISOString();
  const one = [{ agent_id: 'orchestrator', issued_at: now }];
  assert.equal(s.call({ tool: 'web/fetch', delegation_chain: one }, 'researcher').effect, 'PERMIT');
  const outside = s.call({ tool: 'fs/write', args: { path: '/etc/x' }, delegation_chain: one }, 'researcher');
  assert.equal(outside.effect, 'DENY');
  assert.match(outside.human_message!, /fs\/write is outside the scope of the delegation from 'orchestrator' \(web\/\*, docs\/read\)/);
  assert.equal(s.call({ tool: 'fs/write' }, 'researcher').effect, 'PERMIT', "on its own, the worker's rules decide");
  // Two hops: each scope holds, so the work only narrows.
  const two = [...one, { agent_id: 'researcher', issued_at: now }];
  assert.equal(s.call({ tool: 'docs/read', delegation_chain: two }, 'writer').effect, 'PERMIT');
  assert.equal(s.call({ tool: 'docs/write', delegation_chain: two }, 'writer').effect, 'DENY', "outside the first hop's scope");
  assert.equal(s.call({ tool: 'web/fetch', delegation_chain: two }, 'writer').effect, 'DENY', "outside the second hop's scope");
});

test('a delegation past 8 hops is refused on the delegating call, not after its token is minted', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `a${i}`);
  const p = policy(
    ids
      .map((id, i) =>
        agent(`  rules {\n    permit delegate/*\n  }${i < 9 ? `\n  delegate {\n    target_agent = "a${i + 1}"\n  }` : ''}`, id),
      )
      .join(''),
  );
  const s = new Session(p);
  const chain = (n: number) => ids.slice(0, n).map((agent_id) => ({ agent_id, issued_at: new Date(T0).toISOString() }));
  assert.equal(s.call({ tool: 'delegate/a8', delegation_chain: chain(7) }, 'a7').effect, 'PERMIT', 'the 8th hop');
  const ninth = s.call({ tool: 'delegate/a9', delegation_chain: chain(8) }, 'a8');
  assert.equal(ninth.effect, 'DENY');
  assert.match(ninth.human_message!, /would make a chain of 9 hops \(at most 8\)/);
});

test('a delegation is a delegate/<agent> call or an action "delegate", never an argument named target_agent', async () => {
  const { delegateTarget } = await import('../src/index.js');
  assert.equal(delegateTarget({ agent_id: 'a', tool: 'web/fetch', args: { target_agent: 'worker' } }, 'web/fetch'), undefined);
  assert.equal(delegateTarget({ agent_id: 'a', tool: 'delegate/worker' }, 'delegate/worker'), 'worker');
  assert.equal(delegateTarget({ agent_id: 'a', tool: 'hand', action: 'delegate', args: { target_agent: 'w' } }, 'hand'), 'w');
  assert.equal(delegateTarget({ agent_id: 'a', tool: 'hand', action: 'delegate' }, 'hand'), '');
  // An agent without any delegate grant is not denied for an argument's name.
  const s = new Session(policy(agent('  rules {\n    permit kv/*\n  }')));
  assert.equal(s.call({ tool: 'kv/put', args: { target_agent: 'someone' } }).effect, 'PERMIT');
});

describe('giving back a call that did not run', () => {
  test('budgets, spawn counts and rate buckets lose only that call’s use, not what calls decided since spent', () => {
    const p = policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max $10\n  }\n  rate_limit "x": 2 per minute'));
    const state = emptyState();
    const call = (cost: number) => decide(p, { agent_id: 'bot', tool: 'x', cost_usd: cost }, state, { nowMs: T0 }).stateDelta;
    const first = call(3);
    const prior = valuesOf(state, first);
    applyDelta(state, first);
    applyDelta(state, call(4)); // decided while the first waited for its credential
    assert.equal(decide(p, { agent_id: 'bot', tool: 'x' }, state, { nowMs: T0 }).decision.code, 'RATE_EXCEEDED');
    const now = giveBack(state, first, prior);
    const budget = Object.values(state.budgets)[0]!;
    assert.deepEqual([budget.spent_usd, budget.calls], [4, 1], 'the $4 call keeps its use; the $3 one is given back');
    assert.deepEqual(now, valuesOf(state, first), 'what the log records is what the state holds');
    assert.equal(decide(p, { agent_id: 'bot', tool: 'x' }, state, { nowMs: T0 }).decision.effect, 'PERMIT', 'its token is back');
    applyDelta(state, decide(p, { agent_id: 'bot', tool: 'x' }, state, { nowMs: T0 }).stateDelta);
    assert.equal(decide(p, { agent_id: 'bot', tool: 'x' }, state, { nowMs: T0 }).decision.code, 'RATE_EXCEEDED', 'and only one');
  });
});

test('status reads a session budget per session: the one nearest its ceiling, the total, and the day under its daily cap', async () => {
  const { budgetUsage } = await import('../src/index.js');
  const p = policy(agent('  rules {\n    permit x\n  }\n  budget session {\n    max $1\n    daily $5\n  }'));
  const s = new Session(p);
  for (let i = 0; i < 6; i++) assert.equal(s.call({ tool: 'x', session_id: `s${i}`, cost_usd: 0.8 - i * 0.1 }).effect, 'PERMIT');
  const [usage] = budgetUsage('bot', p.agents.get('bot')!.ir.budgets, s.state, T0);
  assert.equal(usage!.sessions, 6);
  assert.equal(usage!.session_id, 's0');
  assert.equal(usage!.spent_usd, 0.8, 'the session nearest its $1, not the sum of six');
  assert.ok(Math.abs(usage!.total_spent_usd! - 3.3) < 1e-9);
  assert.ok(Math.abs(usage!.daily_spent_usd! - 3.3) < 1e-9, 'what the daily cap meters');
});
