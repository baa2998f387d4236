/**
 * An apply that changes what an agent may see tells its open MCP sessions: each client hears
 * `notifications/tools/list_changed` and lists again under the new policy, rather than keep offering
 * the model the listing of the old one (a tool newly permitted it would never call; one newly denied
 * it would keep calling into denials). The proxy's initialize answer says tool lists may change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { appliedStack, everythingStdio, freePort, type Stack } from './daemon-helpers.js';

const policy = (rules: string, port: number) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

${everythingStdio()}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${port}
  }
  rules {
${rules}
  }
}
`;

let s: Stack;
let port: number;

before(async () => {
  port = await freePort();
  s = appliedStack(policy('    permit everything/echo', port));
});
after(() => s.cli('apply', '--stop'));

test('an apply that changes the policy sends list_changed to open sessions, and their next listing follows the new policy', async () => {
  const client = new Client({ name: 'test-host', version: '1.0.0' });
  let changed = 0;
  let heard!: () => void;
  const told = new Promise<void>((r) => (heard = r));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changed++;
    heard();
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/everything`)));
  try {
    assert.equal(client.getServerCapabilities()?.tools?.listChanged, true);
    assert.deepEqual(
      (await client.listTools()).tools.map((t) => t.name),
      ['echo'],
    );
    // The client's event stream opens after the handshake: a listing answered means it had time to.
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(join(s.dir, 'governance.fms'), policy('    permit everything/echo\n    permit everything/get-sum', port));
    const r = await s.cliAsync('apply');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hot-swapped/);
    await Promise.race([told, new Promise((_, no) => setTimeout(() => no(new Error('no list_changed within 5 s')), 5000))]);
    // server-everything announces changes of its own too: the proxy's is one of them.
    assert.ok(changed >= 1);
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['echo', 'get-sum']);
  } finally {
    await client.close();
  }
});
