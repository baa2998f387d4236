/** A slow sink and the drain: sinks get up to 2 s in all, whatever the delivery in flight. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeStack } from './daemon-helpers.js';

const policy = (name: string, url: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  signing_warning_acknowledged = true
}
provider "${name}" {
  type = "webhook-sink"
  url  = "${url}/hook"
}
agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
}
`;

/** A sink endpoint: `answer(n)` for the n-th request (0-based), after `delay(n)` ms. */
async function endpoint(status: (n: number) => number, delay: (n: number) => number): Promise<{ server: Server; url: string }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const i = n++;
      setTimeout(() => res.writeHead(status(i)).end('{}'), delay(i));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a sink that answers slowly does not hold the drain past its 2 s', async () => {
  const slow = await endpoint(
    () => 200,
    () => 8000,
  );
  const s = makeStack(policy('hook', slow.url));
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    for (let i = 0; i < 1200; i++) await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: i } });
    const started = Date.now();
    const stopped = await s.cliAsync('apply', '--stop');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(Date.now() - started < 7000, `the drain took ${Date.now() - started} ms`);
  } finally {
    s.stop();
    slow.server.close();
    slow.server.closeAllConnections();
  }
});
