/**
 * A request the daemon refuses as it stands (invalid params, such as another agent's id on a
 * sandbox's socket; a 4xx over HTTP) is denied without a retry hint: an agent that retries on
 * `retry_after`, as errors.md advises, would loop on it for ever. A refusal that may pass later
 * (the daemon's connections full, 429) keeps its retry hint, with the wait the daemon named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { governedTools, HttpTransport, SocketTransport, ToolDeniedError, TransportError } from '../src/index.js';
import type { Transport } from '../src/wire.js';
import { fakeDaemon } from './fake-daemon.js';

async function denialThrough(transport: Transport): Promise<ToolDeniedError> {
  let ran = false;
  const tools = governedTools({ act: async () => (ran = true) }, { agentId: 'payments', transport, timeoutMs: 2000 });
  const e = await tools.act().catch((x: unknown) => x);
  assert.equal(ran, false);
  assert.ok(e instanceof ToolDeniedError, String(e));
  return e;
}

for (const [code, message, retried] of [
  [-32602, 'this socket speaks for agent support only, not payments', false],
  [-32601, 'unknown method', false],
  [-32600, 'the daemon has 1024 connections open: retry shortly', true],
] as const)
  test(`a socket refusal ${code} is ${retried ? 'retryable' : 'not worth retrying'}`, async () => {
    const d = await fakeDaemon((request, socket) =>
      socket.end(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code, message } })}\n`),
    );
    try {
      const e = await denialThrough(new SocketTransport(d.path));
      assert.equal(e.code, 'DAEMON_ERROR');
      assert.equal(e.resolution?.type, retried ? 'retry_after' : 'manual_audit');
    } finally {
      d.close();
    }
  });

for (const [status, retried, retryAfter, wait] of [
  [403, false, undefined, undefined],
  [400, false, undefined, undefined],
  [429, true, undefined, 2],
  // The daemon's own wait (its share of a shared listener), not a guess.
  [429, true, '5', 5],
  [429, true, 'Wed, 21 Oct 2026 07:28:00 GMT', 2],
] as const)
  test(`an HTTP ${status}${retryAfter ? ` (retry-after: ${retryAfter})` : ''} from /v1/evaluate is ${retried ? `retryable after ${wait} s` : 'not worth retrying'}`, async () => {
    const server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
      res.end(JSON.stringify({ error: { code: 'x', message: 'refused' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const e = await denialThrough(new HttpTransport(`http://127.0.0.1:${port}`));
      assert.equal(e.resolution?.type, retried ? 'retry_after' : 'manual_audit');
      if (e.resolution?.type === 'retry_after') assert.equal(e.resolution.retryAfterSeconds, wait);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

test('arguments JSON cannot carry are refused without a retry hint', async () => {
  const d = await fakeDaemon(() => assert.fail('nothing is sent'));
  try {
    let ran = false;
    const tools = governedTools(
      { act: async (_n: number) => (ran = true) },
      { agentId: 'a', transport: new SocketTransport(d.path), timeoutMs: 2000 },
    );
    const e = await tools.act(Infinity).catch((x: unknown) => x);
    assert.ok(e instanceof ToolDeniedError);
    assert.equal(e.resolution?.type, 'manual_audit');
    assert.equal(ran, false);
  } finally {
    d.close();
  }
});

test('a refusal after a daemon that restarted mid-call is still not worth retrying', async () => {
  let asked = 0;
  const transport: Transport = {
    govern: async () => {
      // First the connection closed unanswered (the daemon went away), then the daemon back refuses it.
      if (asked++ === 0) throw new TransportError('the connection closed unanswered', true, true);
      throw new TransportError('the daemon refused the request: invalid params', false, false, true);
    },
    poll: async () => 'unknown',
  };
  const e = await denialThrough(transport);
  assert.equal(asked, 2);
  assert.equal(e.resolution?.type, 'manual_audit');
});
