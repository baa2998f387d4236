/**
 * Loopback is trusted without a token only for this machine's own clients, not for a web page a
 * browser on it shows: a cross-site POST (no preflight without a Content-Type) carries Origin, and a
 * page that rebinds its own name to 127.0.0.1 carries that name as Host. Neither may make a decision
 * (and so read a brokered credential) on the HTTP API, nor use an agent's tokenless MCP port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, makeStack, RUNTIME } from './daemon-helpers.js';

const require = createRequire(import.meta.url);
const filesystem = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');

function post(port: number, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('a web page on this machine (Origin, or a rebound Host) gets no decision, no credential and no MCP session without a token', async () => {
  const [api, mcp] = [await freePort(), await freePort()];
  const work = mkdtempSync(join(tmpdir(), 'fm-origin-work-'));
  writeFileSync(join(work, 'notes.txt'), 'private notes\n');
  const s = makeStack(`${RUNTIME.replace('runtime {', `runtime {\n  http_listen = "127.0.0.1:${api}"`)}
mcp_server "files" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(filesystem)}, ${JSON.stringify(work)}]
  cwd     = ${JSON.stringify(work)}
}
agent "payments" {
  default deny
  enforcement {
    mcp_proxy_port = ${mcp}
  }
  rules {
    permit db/query
    permit files/read_text_file
  }
  credential "db" {
    provider = "vault"
    tools    = ["db/query"]
  }
}
`);
  try {
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr);
    const call = JSON.stringify({ agent_id: 'payments', tool_id: 'db/query', args: {} });
    // This machine's own client: a decision, with its credential.
    const own = await post(api, '/v1/evaluate', call, { 'content-type': 'application/json' });
    assert.equal(own.status, 200, own.body);
    assert.equal(JSON.parse(own.body).effect, 'PERMIT');
    assert.ok(JSON.parse(own.body).credential);
    assert.equal((await post(api, '/v1/evaluate', call, { 'content-type': 'application/json', host: `localhost:${api}` })).status, 200);
    // A cross-site "simple" POST: no Content-Type, an Origin.
    const csrf = await post(api, '/v1/evaluate', call, { origin: 'https://evil.example' });
    assert.equal(csrf.status, 403, csrf.body);
    assert.doesNotMatch(csrf.body, /STUB|credential"/);
    // DNS rebinding: attacker.example resolved to 127.0.0.1, so the page is same-origin with the daemon.
    const rebound = await post(api, '/v1/evaluate', call, { 'content-type': 'application/json', host: `attacker.example:${api}` });
    assert.equal(rebound.status, 403, rebound.body);
    const spawn = await post(api, '/v1/spawn_ended', JSON.stringify({ agent_id: 'payments' }), { origin: 'null' });
    assert.equal(spawn.status, 403, spawn.body);

    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const rebindMcp = await post(mcp, '/mcp/files', init, { ...mcpHeaders, host: `attacker.example:${mcp}` });
    assert.equal(rebindMcp.status, 403, rebindMcp.body);
    const originMcp = await post(mcp, '/mcp/files', init, { ...mcpHeaders, origin: `http://attacker.example:${mcp}` });
    assert.equal(originMcp.status, 403, originMcp.body);
    const ownMcp = await post(mcp, '/mcp/files', init, { ...mcpHeaders, host: `localhost:${mcp}` });
    assert.equal(ownMcp.status, 200, ownMcp.body);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
