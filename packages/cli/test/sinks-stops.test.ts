/**
 * Sink deliveries against the daemon's stops. A slow sink gets 2 s of the drain in all, whatever the
 * delivery in flight. A delivery that lands after a hot swap stopped its sinks must not save their
 * older map of positions over the new one: a sink the swap added would lose its position, and after
 * a restart start at the end of the log, skipping every record that came between.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStack, sleep, sinkCollector, until } from './daemon-helpers.js';

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
      setTimeout(() => res.writeHead(status(i)).end('{}'), delay(i)).unref();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a sink that answers slowly does not hold the drain past its 2 s', async () => {
  // Far slower than anything a drain may wait for: waiting on it would take 30 s (apply --stop gives
  // up at 15 s), not waiting takes a few, however loaded the machine.
  const slow = await endpoint(
    () => 200,
    () => 30_000,
  );
  const s = makeStack(policy('hook', slow.url));
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    for (let i = 0; i < 1200; i++) await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: i } });
    const started = Date.now();
    const stopped = await s.cliAsync('apply', '--stop');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(Date.now() - started < 14_000, `the drain took ${Date.now() - started} ms`);
  } finally {
    s.stop();
    slow.server.close();
    slow.server.closeAllConnections();
  }
});

test('a delivery landing after a hot swap stopped its sink does not drop the position of a sink the swap added', async () => {
  // The first delivery fails at once; the retry lands 8 s later, after the swap.
  const flaky = await endpoint(
    (n) => (n === 0 ? 503 : 200),
    (n) => (n === 0 ? 0 : 8000),
  );
  const b = await sinkCollector(true);
  const s = makeStack(policy('a', flaky.url));
  const positions = () =>
    Object.keys(
      (
        JSON.parse((JSON.parse(readFileSync(join(s.dir, '.faramesh/state/sinks.json'), 'utf8')) as { body: string }).body) as {
          cursors: Record<string, unknown>;
        }
      ).cursors,
    );
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 0 } });
    await sleep(1000);
    writeFileSync(join(s.dir, 'governance.fms'), policy('b', b.url));
    assert.equal((await s.cliAsync('apply')).code, 0);
    assert.ok(positions().includes('b'));
    await sleep(9000);
    assert.ok(positions().includes('b'), `sink b's position is still saved (${positions().join(', ')})`);
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++)
      ids.push((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: i } })).action_id!.slice(7));
    s.stop();
    await sleep(300);
    b.down = false;
    assert.equal((await s.cliAsync('apply')).code, 0);
    await until('every decision at sink b', () => ids.every((id) => b.shipped.some((r) => r.id === id)), 15_000);
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    b.close();
    flaky.server.close();
    flaky.server.closeAllConnections();
  }
});
