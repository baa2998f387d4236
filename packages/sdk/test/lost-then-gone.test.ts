/**
 * failOpen opens only a daemon that was never reached. One that received the call on the shared
 * connection and went away before answering may have decided it (a deny, say): the call is denied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { governedTools, SocketTransport, ToolDeniedError } from '../src/index.js';

test('failOpen: a daemon that received the call and died before answering is not "unreachable"', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fm-lost-')), 'd.sock');
  let received = 0;
  const server = createServer((s: Socket) => {
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, nl)) as { id: number; method: string };
        buf = buf.slice(nl + 1);
        if (m.method === 'keep_open') s.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { keep_open: true } })}\n`);
        else {
          // The call arrived (and may have been decided); the daemon dies before it answers.
          received++;
          server.close();
          s.destroy();
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  let ran = false;
  const tools = governedTools(
    { payout: async () => (ran = true) },
    { agentId: 'a', transport: new SocketTransport(path), failOpen: true, startGraceMs: 200 },
  );
  const e = await tools.payout().catch((x: unknown) => x);
  assert.equal(received, 1);
  assert.equal(ran, false, 'the tool did not run ungoverned');
  assert.ok(e instanceof ToolDeniedError, String(e));
  assert.equal(e.code, 'DAEMON_UNREACHABLE');
});
