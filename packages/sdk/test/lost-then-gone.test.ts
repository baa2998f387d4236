/**
 * failOpen opens only a daemon that was never reached. One that received the call on the shared
 * connection and went away before answering may have decided it (a deny, say): the call is denied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { governedTools, SocketTransport, ToolDeniedError } from '../src/index.js';
import { fakeDaemon } from './fake-daemon.js';

test('failOpen: a daemon that received the call and died before answering is not "unreachable"', async () => {
  let received = 0;
  const { path } = await fakeDaemon((_request, socket, server) => {
    // The call arrived (and may have been decided); the daemon dies before it answers.
    received++;
    server.close();
    socket.destroy();
  });
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
