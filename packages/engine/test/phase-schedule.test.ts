/**
 * `status` and `explain agent` show where each phase stands from the same schedule the rule stage
 * reads, so what they say is active is what decides: checked here against `decide()` at each step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phaseSchedule } from '../src/index.js';
import { agent, policy, Session, T0 } from './support.js';

const chained = agent(
  [
    '  phase "canary" {\n    duration = "1h"\n    next = "wide"\n    rules {\n      permit pay/a\n    }\n  }',
    '  phase "wide" {\n    duration = "2h"\n    next = "enforce"\n    rules {\n      permit pay/b\n    }\n  }',
    '  phase "orphan" {\n    duration = "1h"\n    rules {\n      permit pay/c\n    }\n  }',
    '  rules {\n    deny pay/*\n  }',
  ].join('\n'),
);

test('a chain of phases: active, then ended, with the times it began and ends; a phase off the chain is unreached', () => {
  const s = new Session(policy(chained));
  s.state.policy_applied_ms = T0;
  const phases = s.p.ir.agents[0]!.phases;
  const at = () => phaseSchedule(phases, s.state.policy_applied_ms, s.now).map((p) => `${p.name}:${p.state}`);
  assert.deepEqual(at(), ['canary:active', 'wide:upcoming', 'orphan:unreached']);
  assert.deepEqual(phaseSchedule(phases, T0, s.now)[1], {
    name: 'wide',
    state: 'upcoming',
    starts_ms: T0 + 3600e3,
    ends_ms: T0 + 3 * 3600e3,
  });
  assert.equal(s.call({ tool: 'pay/a' }).effect, 'PERMIT');
  assert.equal(s.call({ tool: 'pay/b' }).effect, 'DENY');
  s.advance(3600);
  assert.deepEqual(at(), ['canary:ended', 'wide:active', 'orphan:unreached']);
  assert.equal(s.call({ tool: 'pay/a' }).effect, 'DENY');
  assert.equal(s.call({ tool: 'pay/b' }).effect, 'PERMIT');
  s.advance(2 * 3600);
  assert.deepEqual(at(), ['canary:ended', 'wide:ended', 'orphan:unreached']);
  assert.deepEqual(phaseSchedule(phases, T0, s.now)[1], { name: 'wide', state: 'ended', starts_ms: T0 + 3600e3, ends_ms: T0 + 3 * 3600e3 });
  assert.equal(s.call({ tool: 'pay/b' }).effect, 'DENY');
  assert.equal(s.call({ tool: 'pay/c' }).effect, 'DENY', 'an unreached phase never decides');
});

test('a phase without a duration stays active; a policy never applied has no phase running', () => {
  const phases = [
    { name: 'forever', next: 'x' },
    { name: 'x', duration_s: 60 },
  ];
  assert.deepEqual(phaseSchedule(phases, T0, T0 + 1e12), [
    { name: 'forever', state: 'active', starts_ms: T0 },
    { name: 'x', state: 'unreached' },
  ]);
  assert.deepEqual(
    phaseSchedule(phases, undefined, T0).map((p) => p.state),
    ['unreached', 'unreached'],
  );
});

test('a chain that loops back ends once each phase has run', () => {
  const phases = [
    { name: 'a', duration_s: 60, next: 'b' },
    { name: 'b', duration_s: 60, next: 'a' },
  ];
  assert.deepEqual(
    phaseSchedule(phases, T0, T0 + 90e3).map((p) => p.state),
    ['ended', 'active'],
  );
  assert.deepEqual(
    phaseSchedule(phases, T0, T0 + 121e3).map((p) => p.state),
    ['ended', 'ended'],
  );
});
