/** MCP proxy: the request bodies one agent has on their way are bounded in bytes, not only in count. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

/** A POST whose body is announced whole but sent only in part: the client holds its end. */
function partialPost(port: number, announced: number, sent: number) {
  const s = connect(port, '127.0.0.1');
  let data = '';
  s.on('data', (d) => (data += d.toString()));
  s.on('error', () => {});
  s.write(
    `POST /mcp/h HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: ${announced}\r\n\r\n`,
  );
  s.write(`"${'a'.repeat(sent - 1)}`);
  return { s, read: () => data, closed: new Promise<void>((r) => s.on('close', r)) };
}

test('an agent holding requests short of their end cannot make the daemon keep more than its share of bytes: the next is refused with 503, and the share comes back', async () => {
  const limits = { perAgent: 4, idleMs: 60_000, bodyBytes: 1 << 20 };
  const p = new McpProxy(testProxyDeps([]), limits);
  const port = await p.listen(0, 'bot');
  try {
    const posts = [partialPost(port, 800_000, 700_000)];
    await new Promise((r) => setTimeout(r, 200));
    posts.push(partialPost(port, 800_000, 700_000));
    // One of them is refused: the second, unless a loaded machine read the first's bytes after it.
    await Promise.race([...posts.map((p) => p.closed), new Promise((r) => setTimeout(r, 10_000))]);
    const refused = posts.filter((p) => /^HTTP\/1\.1 503 /.test(p.read()));
    assert.equal(refused.length, 1, posts.map((p) => JSON.stringify(p.read().slice(0, 80))).join(' | '));
    assert.match(refused[0]!.read(), /too many bytes of requests on their way/);
    assert.match(refused[0]!.read(), /retry-after: 1/i);
    const held = posts.find((p) => !refused.includes(p))!;
    held.s.destroy();
    await held.closed;
    // The first one's bytes are released with it: a request of the same size is read again.
    const res = await fetch(`http://127.0.0.1:${port}/mcp/h`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', pad: 'a'.repeat(700_000) }),
    });
    assert.equal(res.status, 400, 'read and answered (not an initialize), not refused as busy');
  } finally {
    await p.close(0);
  }
});
