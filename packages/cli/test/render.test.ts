import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordLine } from '../src/commands/audit/render.js';

test('audit tail: an effect read back from the log named like an Object member is printed, not looked up', () => {
  for (const effect of ['__proto__', 'toString', 'hasOwnProperty', 'constructor', 'permit']) {
    const line = recordLine({ type: 'decision', time: 't', id: 'X', agent_id: 'a', tool: 'pay', effect }, true);
    assert.ok(line.includes(effect.toUpperCase()), line);
  }
});

test('audit tail: a deny or defer recorded under audit mode says the call ran', () => {
  const rec = { type: 'decision', time: 't', id: 'X', agent_id: 'a', tool: 'pay', effect: 'deny', code: 'POLICY_DENY' };
  assert.doesNotMatch(recordLine(rec, false), /audit mode/);
  assert.match(recordLine({ ...rec, mode: 'audit' }, false), /DENY +\(audit mode: not enforced, the call ran\) +POLICY_DENY$/);
  assert.doesNotMatch(recordLine({ ...rec, effect: 'permit', mode: 'audit' }, false), /audit mode/);
});
