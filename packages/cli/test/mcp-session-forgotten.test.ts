/**
 * An MCP session's calls are decided under a session id of the daemon's own, never used again once
 * the session ends: its session budget counters and facts are then forgotten, rather than kept (and
 * snapshotted) for the daemon's life. No MCP session outlives the daemon, so a start forgets them too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { everythingStdio, freePort, makeStack, RUNTIME, until } from './daemon-helpers.js';

test('a closed MCP session leaves the session budget; a restart forgets those it cut short', async () => {
  const port = await freePort();
  const s = makeStack(`${RUNTIME}
${everythingStdio()}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${port}
  }
  rules {
    permit everything/echo
  }
  budget session {
    max_calls 100
    on_exceed deny
  }
}
`);
  const sessions = async () => {
    const status = JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as {
      budgets: { window: string; sessions?: number }[];
    };
    return status.budgets.find((b) => b.window === 'session')!.sessions;
  };
  const session = async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/everything`));
    const c = new Client({ name: 'forgotten-test', version: '1.0.0' });
    await c.connect(transport);
    await c.callTool({ name: 'echo', arguments: { message: 'hi' } });
    return { c, transport };
  };
  try {
    assert.equal(s.cli('apply').code, 0);
    const first = await session();
    const second = await session();
    assert.equal(await sessions(), 2);
    await first.transport.terminateSession();
    await first.c.close();
    await until('the closed session to be forgotten', async () => (await sessions()) === 1);
    // Cut short by a crash: the restart forgets it as well.
    process.kill(s.pid(), 'SIGKILL');
    await second.c.close().catch(() => {});
    assert.equal(s.cli('apply').code, 0);
    assert.equal(await sessions(), 0);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
