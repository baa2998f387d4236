import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeStack, until } from './daemon-helpers.js';

test('a backlog too large for the sink (413) is sent in smaller batches, not refused forever', async () => {
  // A collector with express.json's default body limit, down while the backlog builds.
  const shipped: number[] = [];
  let down = true;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (down) return void res.writeHead(503).end('down');
      if (body.length > 100 * 1024) return void res.writeHead(413).end('request entity too large');
      shipped.push(...(JSON.parse(body) as { records: { seq: number }[] }).records.map((r) => r.seq));
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
provider "hook" {
  type = "webhook-sink"
  url  = "http://127.0.0.1:${(server.address() as AddressInfo).port}/hook"
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
    for (let i = 0; i < 300; i++)
      await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { i, note: 'x'.repeat(200) } });
    down = false;
    await until('the backlog to ship', () => shipped.length >= 300, 40_000);
    const sorted = [...new Set(shipped)].sort((a, b) => a - b);
    assert.deepEqual(
      sorted,
      Array.from({ length: sorted.length }, (_, i) => sorted[0]! + i),
      'no gap',
    );
    assert.deepEqual(
      shipped,
      [...shipped].sort((a, b) => a - b),
      'in order',
    );
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    server.close();
  }
});
