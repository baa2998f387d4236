/**
 * A call whose request is over the daemon's 1 MiB line limit, on the shared socket connection: it is
 * denied as a request that must change (manual_audit, not retry_after), and the calls in flight beside
 * it are decided as if it had never been made. Sent, the daemon would refuse it with the code of a
 * passing refusal and end the shared connection, failing every call on it, and again on the connection
 * they were retried on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { governedTools, SocketTransport, ToolDeniedError } from '../src/index.js';
import { startDaemon } from './daemon.js';

test('an oversized request over the socket: manual_audit, and the calls beside it still decided', async () => {
  const d = startDaemon();
  const transport = new SocketTransport(d.socket);
  try {
    const ran: string[] = [];
    const tools = governedTools(
      { searchDocs: async (a: { q: number; page?: string }) => (ran.push(`search ${a.q}`), 'found') },
      { agentId: 'bot', transport },
    );
    await tools.searchDocs({ q: 0 });
    const calls = await Promise.allSettled([
      tools.searchDocs({ q: 1 }),
      tools.searchDocs({ q: 2, page: 'x'.repeat(1.5 * 2 ** 20) }),
      tools.searchDocs({ q: 3 }),
      tools.searchDocs({ q: 4 }),
    ]);
    const big = calls[1];
    assert.ok(big.status === 'rejected' && big.reason instanceof ToolDeniedError, String(big));
    assert.equal(big.reason.code, 'DAEMON_ERROR');
    assert.deepEqual(big.reason.resolution, { type: 'manual_audit' });
    assert.match(big.reason.humanMessage, /more than the daemon takes/);
    assert.deepEqual(
      calls.map((c) => c.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual(ran.sort(), ['search 0', 'search 1', 'search 3', 'search 4']);
  } finally {
    transport.close();
    d.stop();
  }
});
