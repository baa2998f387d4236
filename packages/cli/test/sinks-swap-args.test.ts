import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeStack, sleep, until } from './daemon-helpers.js';

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
  let down = false;
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
  const s = makeStack(policy(url, 'one'));
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    const pid = s.pid();
    down = true;
    const id = (await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 5, card: '4111' } })).action_id!.slice(7);
    await sleep(700);
    writeFileSync(join(s.dir, 'governance.fms'), policy(url, 'two'));
    down = false;
    assert.equal((await s.cliAsync('apply')).code, 0);
    assert.equal(s.pid(), pid, 'swapped in place, not restarted');
    await until('the record', () => shipped.some((r) => r.id === id), 15_000);
    assert.deepEqual(shipped.find((r) => r.id === id)!.args, { id: 5, card: '[REDACTED]' });
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    server.close();
  }
});
