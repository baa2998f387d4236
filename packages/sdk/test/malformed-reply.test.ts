/** A daemon (or something posing as one) that answers a line that is JSON but no JSON-RPC message. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { governedTools, SocketTransport, ToolDeniedError } from '../src/index.js';
import { fakeDaemon } from './fake-daemon.js';

/** Acknowledges keep_open (when keepOpen), then answers every other line with `reply`. */
const fake = (reply: string, keepOpen: boolean) => fakeDaemon((_request, socket) => socket.end(`${reply}\n`), keepOpen);

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
