/**
 * An initialize the transport refuses (an Accept header without text/event-stream, a batch around
 * it) makes no session: the upstream started for it (a stdio child) is closed at once, not left
 * running outside the agent's session limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive as alive } from '@faramesh/audit';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

test('a refused initialize leaves no upstream process behind', async () => {
  const pids = join(mkdtempSync(join(tmpdir(), 'fm-mcp-')), 'pids');
  // The upstream only notes its pid and waits on stdin: the transport refuses before it is spoken to.
  const child = `require('fs').appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n'); process.stdin.resume();`;
  const p = new McpProxy(testProxyDeps(['-e', child]));
  const port = await p.listen(0, 'bot');
  const init = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  };
  let started: number[] = [];
  try {
    const refused = [
      { accept: 'application/json', body: init },
      { accept: 'application/json, text/event-stream', body: [init, { jsonrpc: '2.0', id: 1, method: 'ping' }] },
    ];
    for (const { accept, body } of refused) {
      const r = await fetch(`http://127.0.0.1:${port}/mcp/h`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify(body),
      });
      assert.ok(r.status >= 400, `refused (${r.status})`);
      assert.equal(r.headers.get('mcp-session-id'), null);
      await r.text();
    }
    // A child closed before node had started it never notes its pid; one left running notes it
    // within a few seconds, however loaded the machine.
    const noted = () => (existsSync(pids) ? readFileSync(pids, 'utf8').trim().split('\n').map(Number) : []);
    for (const until = Date.now() + 3000; noted().length < 2 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    started = noted();
    assert.ok(started.length <= 2, `${started.length} upstreams started for two requests`);
    const deadline = Date.now() + 5000;
    while (started.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(started.filter(alive), [], 'every upstream started for a refused initialize has exited');
  } finally {
    await p.close(0);
    for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL');
  }
});
