/**
 * On a kept-open connection, the daemon answers a line it cannot read (one over its size limit)
 * with a refusal that has no id, answers the lines it read before, and closes. The refusal is not
 * the answer of whichever request happens to be oldest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { governedTools, SocketTransport, ToolDeniedError } from '../src/index.js';

const refusal = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'the request exceeds 1048576 bytes' } });

test('a refusal without an id on a shared connection is not handed to an older request the daemon permitted', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fm-refuse-')), 'd.sock');
  let connections = 0;
  const server = createServer((s: Socket) => {
    const first = ++connections === 1;
    const lines: { id: number; params: { tool_id: string } }[] = [];
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, nl)) as { id: number; method: string; params: { tool_id: string } };
        buf = buf.slice(nl + 1);
        if (m.method === 'keep_open') {
          s.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { keep_open: true } })}\n`);
          continue;
        }
        lines.push(m);
        // The first connection: `search` is being decided when `write`'s line is refused; then
        // `search` is answered (PERMIT) and the connection ends. Later ones: `write` alone, refused.
        if (first && lines.length < 2) continue;
        s.write(`${refusal}\n`);
        const search = lines.find((l) => l.params.tool_id === 'search');
        if (search) s.write(`${JSON.stringify({ jsonrpc: '2.0', id: search.id, result: { effect: 'PERMIT', action_id: 'action-1' } })}\n`);
        s.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  try {
    const ran: string[] = [];
    const tools = governedTools(
      { search: async (_a: object) => (ran.push('search'), 'found'), write: async (_a: object) => (ran.push('write'), 'written') },
      { agentId: 'a', transport: new SocketTransport(path), timeoutMs: 2000 },
    );
    const [search, write] = await Promise.allSettled([tools.search({}), tools.write({ content: 'big' })]);
    assert.deepEqual(search, { status: 'fulfilled', value: 'found' }, 'the permitted call runs');
    assert.equal(write.status, 'rejected');
    const e = (write as PromiseRejectedResult).reason as ToolDeniedError;
    assert.ok(e instanceof ToolDeniedError);
    assert.equal(e.code, 'DAEMON_ERROR');
    assert.match(e.humanMessage, /exceeds 1048576 bytes/);
    assert.deepEqual(ran, ['search']);
  } finally {
    server.close();
  }
});
