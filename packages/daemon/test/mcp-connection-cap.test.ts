/**
 * The MCP proxy's shared port under one agent's flood: it keeps only its share of the port's
 * connections busy, and connections that never finish their headers give way, so another agent
 * is still answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { McpProxy } from '../src/mcp/proxy.js';
import { MAX_HTTP_CONNECTIONS, ORIGIN_SHARE } from '../src/wire/line-server.js';
import { testProxyDeps } from './mcp-test-deps.js';

/** A POST by the agent of `token` whose body is announced but only begun: the reply, when one comes. */
function heldPost(port: number, token: string): { s: Socket; reply: () => string } {
  const s = connect(port, '127.0.0.1');
  let data = '';
  s.on('data', (d: Buffer) => (data += d.toString()));
  s.on('error', () => {});
  s.write(
    `POST /mcp/h HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: 100\r\n\r\n{"js`,
  );
  return { s, reply: () => data };
}

const ping = (port: number, token: string) =>
  fetch(`http://127.0.0.1:${port}/mcp/h`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    signal: AbortSignal.timeout(5000),
  });

test(
  'on the shared MCP port one agent cannot lock another out, with requests held open or half-sent headers',
  { timeout: 60_000 },
  async () => {
    const tokens: Record<string, string> = { fmt_a: 'a', fmt_b: 'b' };
    const p = new McpProxy(testProxyDeps([], { agentFor: (t) => tokens[t] }), { perAgent: 4, idleMs: 60_000, bodyBytes: 1 << 20 });
    const port = await p.listen(0);
    const share = MAX_HTTP_CONNECTIONS / ORIGIN_SHARE;
    const held: Socket[] = [];
    try {
      const mine = Array.from({ length: share + 1 }, () => heldPost(port, 'fmt_a'));
      held.push(...mine.map((m) => m.s));
      await sleep(500);
      const refused = mine.filter((m) => /^HTTP\/1\.1 429 /.test(m.reply()));
      assert.equal(refused.length, 1, "past its share the agent's next request is refused");
      assert.match(refused[0]!.reply(), /retry-after: 5/i);
      // Answered (400: not an initialize), not refused or dropped.
      assert.equal((await ping(port, 'fmt_b')).status, 400, 'another agent is still answered');

      for (let i = 0; i < MAX_HTTP_CONNECTIONS; i++) {
        const s = connect(port, '127.0.0.1', () => s.write('POST /mcp/h HTTP/1.1\r\nhost: 12'));
        held.push(s.on('error', () => {}));
      }
      await sleep(1200);
      assert.equal((await ping(port, 'fmt_b')).status, 400, 'a stalled sender gave way');
    } finally {
      for (const s of held) s.destroy();
      await p.close(0);
    }
  },
);
