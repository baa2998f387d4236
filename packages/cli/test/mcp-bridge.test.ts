/**
 * faramesh mcp <server>: a client on stdio cannot initialize again, so when the proxy has lost the
 * bridge's session (the daemon restarted, or the session sat idle), the bridge opens a new one with
 * the client's initialize and the client's next call goes through.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, freePort, makeStack, type Stack } from './daemon-helpers.js';

const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
let s: Stack | undefined;
after(() => s?.cli('apply', '--stop'));

test('the stdio entry outlives a daemon restart: the next call opens a new session and runs', async () => {
  s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

mcp_server "everything" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(everything)}, "stdio"]
}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${await freePort()}
  }
  rules {
    permit everything/echo
  }
}
`);
  assert.equal(s.cli('apply').code, 0);
  const client = new Client({ name: 'bridge-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'everything', '--dir', s.dir, '--agent', 'coder'],
      stderr: 'ignore',
    }),
  );
  try {
    const echo = async () =>
      JSON.stringify((await client.callTool({ name: 'echo', arguments: { message: 'hi' } }, undefined, { timeout: 10_000 })).content);
    assert.match(await echo(), /Echo: hi/);
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    assert.match(await echo(), /Echo: hi/, 'the call after the restart runs');
    assert.match(await echo(), /Echo: hi/);
    // Still governed: a tool the agent is not permitted is denied in the new session too.
    const denied = (await client.callTool({ name: 'get-env', arguments: {} })) as { isError?: boolean };
    assert.equal(denied.isError, true);
  } finally {
    await client.close();
  }
});
