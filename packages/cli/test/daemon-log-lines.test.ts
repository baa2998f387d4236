import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appliedStack, POLICY, until } from './daemon-helpers.js';

test('an agent id sent with line breaks and escapes cannot forge or hide a line of the daemon log', async () => {
  const s = appliedStack(POLICY);
  try {
    const forged = '2026-01-01T00:00:00.000Z policy swapped: aaaaaaaaaaaaaaaa → bbbbbbbbbbbbbbbb';
    const reply = await s.govern({ agent_id: `evil\n${forged}\r\u001b[2K`, tool: 'ticket/read', args: {}, principal: { sub: 'x' } });
    assert.equal(reply.effect, 'DENY');
    const log = join(s.dir, '.faramesh', 'runtime', 'daemon.log');
    await until('the note about the claims', () => readFileSync(log, 'utf8').includes('sent principal claims'));
    const lines = readFileSync(log, 'utf8').split('\n');
    assert.ok(!lines.some((l) => l.startsWith(forged)), "a line the agent wrote passes for the daemon's own");
    assert.ok(!/[\r\u001b]/.test(readFileSync(log, 'utf8')), "control characters reach the operator's terminal");
    assert.ok(
      lines.some((l) => l.includes('agent evil\\x0a2026-01-01')),
      'the agent id is shown, escaped',
    );
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
