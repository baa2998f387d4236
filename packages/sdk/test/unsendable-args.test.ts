/**
 * Arguments JSON cannot carry as they are: Infinity and NaN would reach the daemon as null (a
 * `deny … if amount > 1000` would not match while the body gets Infinity), a BigInt or a cycle would
 * throw inside the transport. Each is denied before anything is sent, and the tool never runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { governedTools, SocketTransport, StubTransport, ToolDeniedError } from '../src/index.js';

const cyclic = (): Record<string, unknown> => {
  const o: Record<string, unknown> = { amount: 5 };
  o.self = o;
  return o;
};

test('non-finite numbers, BigInt and cycles in the arguments are denied, not sent changed', async () => {
  const stub = new StubTransport({ transfer: 'permit' });
  const ran: unknown[] = [];
  const tools = governedTools({ transfer: async (a: unknown) => void ran.push(a) }, { agentId: 'bot', transport: stub });
  for (const args of [{ amount: Infinity }, { amount: NaN }, { nested: { amount: -Infinity } }, { amount: 5n }, cyclic()]) {
    await assert.rejects(
      tools.transfer(args),
      (e: unknown) => e instanceof ToolDeniedError && e.code === 'DAEMON_ERROR' && /cannot be sent as JSON/.test(e.humanMessage),
    );
  }
  assert.deepEqual(ran, []);
  assert.deepEqual(stub.calls, [], 'nothing reached the daemon');
});

test('a cyclic argument on a connection per request does not crash the process', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fm-cyc-')), 'd.sock');
  const server = createServer((c) => c.on('data', () => c.end('{"jsonrpc":"2.0","id":1,"result":{"effect":"PERMIT"}}\n')));
  await new Promise<void>((r) => server.listen(path, r));
  try {
    const tools = governedTools(
      { transfer: async (_a: unknown) => 'ran' },
      { agentId: 'bot', transport: new SocketTransport(path, { keepOpen: false }), timeoutMs: 2000 },
    );
    await assert.rejects(tools.transfer(cyclic()), (e: unknown) => e instanceof ToolDeniedError && e.code === 'DAEMON_ERROR');
  } finally {
    server.close();
  }
});
