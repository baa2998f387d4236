/**
 * Audit mode blocks nothing, tool listings included: under `runtime { mode = "audit" }` the MCP proxy's
 * `tools/list` shows every tool, so the model can call what the policy would deny and the log shows it.
 * Switched to enforce by a hot swap, the listing is filtered again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { appliedStack, decisionRecords, everythingStdio, freePort, type Stack } from './daemon-helpers.js';

const policy = (mode: string, port: number) => `runtime {
  mode    = "${mode}"
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
    permit everything/echo
  }
}
`;

let s: Stack;
let port: number;

before(async () => {
  port = await freePort();
  s = appliedStack(policy('audit', port));
});
after(() => s.cli('apply', '--stop'));

async function listed(): Promise<string[]> {
  const client = new Client({ name: 'test-host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/everything`)));
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

test('audit mode lists every tool, and a call the policy would deny runs and is recorded as a deny', async () => {
  const names = await listed();
  assert.ok(names.includes('echo') && names.includes('get-sum'), names.join(', '));
  const client = new Client({ name: 'test-host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/everything`)));
  try {
    const r = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    assert.match(JSON.stringify(r.content), /5/);
  } finally {
    await client.close();
  }
  const rec = (await decisionRecords(s)).find((r) => r.tool === 'everything/get-sum');
  assert.equal(rec?.effect, 'deny');
  assert.equal(rec?.mode, 'audit');
});

test('switched to enforce by apply, the listing is filtered again', async () => {
  writeFileSync(join(s.dir, 'governance.fms'), policy('enforce', port));
  const r = s.cli('apply');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /hot-swapped/);
  assert.deepEqual(await listed(), ['echo']);
});
