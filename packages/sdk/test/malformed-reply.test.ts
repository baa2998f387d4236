/** A daemon (or something posing as one) that answers a line that is JSON but no JSON-RPC message. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { governedTools, SocketTransport, ToolDeniedError } from '../src/index.js';

/** Acknowledges keep_open (when keepOpen), then answers every other line with `reply`. */
async function fake(reply: string, keepOpen: boolean) {
  const path = join(mkdtempSync(join(tmpdir(), 'fm-bad-')), 'bad.sock');
  const server = createServer((s: Socket) => {
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, nl)) as { id: number; method: string };
        buf = buf.slice(nl + 1);
        if (m.method === 'keep_open')
          s.write(
            `${JSON.stringify(keepOpen ? { jsonrpc: '2.0', id: m.id, result: { keep_open: true } } : { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'no' } })}\n`,
          );
        else s.end(`${reply}\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, close: () => server.close() };
}

for (const keepOpen of [true, false])
  for (const reply of ['null', '42', '"x"', '[]'])
    test(`a reply line ${reply} (${keepOpen ? 'kept-open connection' : 'one per request'}) denies the call as DAEMON_ERROR, never crashes the agent`, async () => {
      const d = await fake(reply, keepOpen);
      const crashed: unknown[] = [];
      const onCrash = (e: unknown) => crashed.push(e);
      process.on('uncaughtException', onCrash);
      try {
        let ran = false;
        const tools = governedTools(
          { act: async () => (ran = true) },
          { agentId: 'a', transport: new SocketTransport(d.path), timeoutMs: 1000 },
        );
        const e = await tools.act().catch((x: unknown) => x);
        assert.deepEqual(crashed, []);
        assert.ok(e instanceof ToolDeniedError, String(e));
        assert.equal(e.code, 'DAEMON_ERROR');
        assert.match(e.humanMessage, /not a JSON-RPC message/);
        assert.equal(ran, false);
      } finally {
        process.off('uncaughtException', onCrash);
        d.close();
      }
    });
