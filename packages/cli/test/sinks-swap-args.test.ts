import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStack, sleep, until, sinkCollector } from './daemon-helpers.js';

const policy = (url: string, token: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
provider "hook" {
  type  = "webhook-sink"
  url   = "${url}/hook"
  token = "${token}"
}
agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
  redact ticket/read args: ["card"]
}
`;

test('a hot swap of the sinks keeps the redacted arguments of records they have not shipped yet', async () => {
  const collector = await sinkCollector(false);
  const { url, shipped } = collector;
  const s = makeStack(policy(url, 'one'));
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    const pid = s.pid();
    collector.down = true;
    const id = (await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 5, card: '4111' } })).action_id!.slice(7);
    await sleep(700);
    writeFileSync(join(s.dir, 'governance.fms'), policy(url, 'two'));
    collector.down = false;
    assert.equal((await s.cliAsync('apply')).code, 0);
    assert.equal(s.pid(), pid, 'swapped in place, not restarted');
    await until('the record', () => shipped.some((r) => r.id === id), 15_000);
    assert.deepEqual(shipped.find((r) => r.id === id)!.args, { id: 5, card: '[REDACTED]' });
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    collector.close();
  }
});
