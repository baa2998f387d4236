/**
 * A brokered credential whose value cannot travel as an HTTP header (a multi-line secret) is refused
 * for an MCP call without the value reaching the client: neither the legacy SSE path (the daemon's
 * fetch) nor the hot path quotes it in the error the client hears, and the log never has it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FakeVault, VAULT_PROVIDER, vaultEnv } from './fake-vault.js';
import { appliedStack, freePort, RUNTIME, type Stack, startHttpServer, walText } from './daemon-helpers.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/mcp-header-server.mjs', import.meta.url));
const vault = new FakeVault();
let upstream: ChildProcess;
let s: Stack;
let port = 0;

before(async () => {
  await vault.start();
  vault.kv.set('kv/multi', { value: 'TOPSECRET-line1\nTOPSECRET-line2' });
  const started = await startHttpServer(fixture, 'http');
  upstream = started.child;
  port = await freePort();
  s = appliedStack(
    `${RUNTIME}
${VAULT_PROVIDER}
mcp_server "api" {
  url = "http://127.0.0.1:${started.port}/mcp"
}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${port}
  }
  rules {
    permit api/whoami
  }
  credential "key" {
    provider = "vault"
    path     = "multi"
    header   = "X-Api-Key"
    tools    = ["api/whoami"]
  }
}
`,
    vaultEnv(vault),
  );
});

after(() => {
  s.cli('apply', '--stop');
  s.stop();
  upstream.kill();
  vault.stop();
});

async function heard(transport: SSEClientTransport | StreamableHTTPClientTransport): Promise<string> {
  const c = new Client({ name: 'credential-value-test', version: '1.0.0' });
  await c.connect(transport);
  try {
    return JSON.stringify(await c.callTool({ name: 'whoami', arguments: {} }));
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.close();
  }
}

test('a credential no header can carry: the call fails, and the client never hears its value', async () => {
  const sse = await heard(new SSEClientTransport(new URL(`http://127.0.0.1:${port}/mcp/api/sse`)));
  assert.ok(!sse.includes('TOPSECRET'), `the SSE client heard the credential: ${sse}`);
  assert.match(sse, /cannot be sent in the x-api-key header/);
  const hot = await heard(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/api`)));
  assert.ok(!hot.includes('TOPSECRET'), `the Streamable HTTP client heard the credential: ${hot}`);
  assert.ok(!walText(join(s.dir, 'wal')).includes('TOPSECRET'), 'the credential never reaches the log');
});
