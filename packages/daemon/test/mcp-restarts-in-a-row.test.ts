/**
 * A stdio server that exits is restarted, "backing off up to 5 times in a row" (docs/mcp.md): crashes
 * with answered requests between them are not in a row, so a long session whose server crashes now
 * and then keeps its server, however many times that happens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

const crashing = fileURLToPath(new URL('../../../cli/test/fixtures/mcp-crash-server.mjs', import.meta.url));

test('crashes separated by answered calls are not "in a row": the server is restarted every time', async () => {
  const effects = join(mkdtempSync(join(tmpdir(), 'fm-mcp-')), 'effects.log');
  const p = new McpProxy(
    {
      ...testProxyDeps([crashing], { filterTools: () => false }),
      servers: () => [{ name: 'h', command: process.execPath, args: [crashing], env: { EFFECTS: effects }, headers: {}, ref: 'test:1' }],
    },
    { perAgent: 4, idleMs: 60_000 },
  );
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'restarts-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/h`)));
  try {
    for (let i = 0; i < 8; i++) {
      const lost = await c.callTool({ name: 'crash', arguments: {} }).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.match(String(lost?.message), /exited while this request was in flight; it is being restarted/, `crash ${i + 1}`);
      const r = (await c.callTool({ name: 'effect', arguments: {} }, undefined, { timeout: 5000 })) as { content: { text: string }[] };
      assert.equal(r.content[0]!.text, 'done', `the server runs again after crash ${i + 1}`);
    }
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
  }
});
