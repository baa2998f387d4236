import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStack, sleep, until, sinkCollector } from './daemon-helpers.js';

test('a sink that never delivered before a restart still ships what was decided before it', async () => {
  const collector = await sinkCollector(true);
  const { url, shipped } = collector;
  const s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
provider "hook" {
  type = "webhook-sink"
  url  = "${url}/hook"
}
agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
}
`);
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    const before = (await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 1 } })).action_id!.slice(7);
    await sleep(800); // the first delivery fails: the collector is down
    assert.equal((await s.cliAsync('apply', '--stop')).code, 0);
    collector.down = false;
    assert.equal((await s.cliAsync('apply')).code, 0);
    const after = (await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 2 } })).action_id!.slice(7);
    await until('the record after the restart', () => shipped.some((r) => r.id === after), 15_000);
    assert.ok(
      shipped.some((r) => r.id === before),
      'the decision made before the restart, while the new sink was down, was never shipped',
    );
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    collector.close();
  }
});
