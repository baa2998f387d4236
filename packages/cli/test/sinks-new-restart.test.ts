import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeStack, sleep, until } from './daemon-helpers.js';

test('a sink that never delivered before a restart still ships what was decided before it', async () => {
  let down = true;
  const shipped: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (down) return void res.writeHead(503).end('down');
      shipped.push(...(JSON.parse(body) as { records: Record<string, unknown>[] }).records);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    down = false;
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
    server.close();
  }
});
