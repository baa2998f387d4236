import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordLine } from '../src/commands/audit/render.js';

test('audit tail: an effect read back from the log named like an Object member is printed, not looked up', () => {
  for (const effect of ['__proto__', 'toString', 'hasOwnProperty', 'constructor', 'permit']) {
    const line = recordLine({ type: 'decision', time: 't', id: 'X', agent_id: 'a', tool: 'pay', effect }, true);
    assert.ok(line.includes(effect.toUpperCase()), line);
  }
});
