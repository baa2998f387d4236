/**
 * What an McpProxy under test is given: one stdio server (`h` unless named) run by node with `args`, every call
 * permitted, every tool visible, nothing recorded. Tests override what they exercise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpProxy, type ProxyDeps } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';

export function testProxyDeps(args: string[], overrides: Partial<ProxyDeps> = {}, name = 'h'): ProxyDeps {
  return {
    servers: () => [{ name, command: process.execPath, args, env: {}, headers: {}, ref: 'test:1' }],
    decide: (params) => ({ call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 }),
    visible: () => true,
    filterTools: () => true,
    denyAsError: () => false,
    record: () => {},
    tasks: new TaskBook(() => {}),
    agentFor: () => undefined,
    ready: () => true,
    stackDir: process.cwd(),
    env: process.env,
    say: () => {},
    ...overrides,
  };
}

/** A port free on loopback a moment ago. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');

/** server-everything over HTTP (`streamableHttp`, or `sse` for the legacy transport), listening; kill `child` when done. */
export async function startEverything(mode: 'streamableHttp' | 'sse' = 'streamableHttp'): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [everything, mode], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((r) => child.stderr!.on('data', (d: Buffer) => /listening|running/i.test(String(d)) && r()));
  return { port, child };
}

/**
 * A raw stdio MCP server (no SDK), written to a temp file: it answers `initialize`, and runs `onCall`
 * (JavaScript, with the request `m` and `send(message)` in scope) for each `tools/call`, and `onList`
 * for each `tools/list`. Its path.
 */
export function rawStdioServer(name: string, onCall = '', onList = ''): string {
  const script = join(mkdtempSync(join(tmpdir(), 'fm-mcp-')), `${name}.mjs`);
  writeFileSync(
    script,
    `let buf = '';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (m.method === 'initialize')
      send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: ${JSON.stringify(name)}, version: '1' } } });
    else if (m.method === 'tools/call') {
      ${onCall}
    } else if (m.method === 'tools/list') {
      ${onList || "send({ jsonrpc: '2.0', id: m.id, result: { tools: [] } });"}
    }
  }
});
process.stdin.on('end', () => process.exit(0));
`,
  );
  return script;
}

/** The structured denial of the stubbed deny rules below: `not this one (POLICY_DENY)` to the model. */
export const STUB_DENIAL = {
  code: 'POLICY_DENY',
  human_message: 'not this one',
  resolution: { type: 'rule_block', rule_id: 'test' },
} as const;

/** A decide stub: `effect` (with `STUB_DENIAL`, unless `denial` is given) for every tool but those `permitted`. */
export function decideAs(
  effect: 'DENY' | 'DEFER',
  {
    permitted = () => false,
    denial = STUB_DENIAL,
    ...extra
  }: { permitted?: (tool: string) => boolean; denial?: object; defer_token?: string } = {},
): ProxyDeps['decide'] {
  return (params) =>
    ({
      call_id: params.call_id ?? '',
      action_id: 'action-1',
      latency_ms: 0,
      ...(permitted(params.tool_id ?? '') ? { effect: 'PERMIT' } : { effect, structured_denial: denial, ...extra }),
    }) as ReturnType<ProxyDeps['decide']>;
}

/** server-everything over stdio, served as `ev` to agent `bot` by a proxy deciding with `decide`. */
export async function everythingProxy(decide: ProxyDeps['decide']): Promise<{ proxy: McpProxy; url: URL }> {
  const proxy = new McpProxy(testProxyDeps([everything, 'stdio'], { decide }, 'ev'));
  const port = await proxy.listen(0, 'bot');
  return { proxy, url: new URL(`http://127.0.0.1:${port}/mcp/ev`) };
}

/**
 * The stub's denial of everything's `get-structured-content` (which has an outputSchema) as the SDK
 * client accepts it: an error result, the denial in `_meta`; and of `get-sum` (none), in
 * structuredContent, which is returned for further checks.
 */
export async function assertSchemaDenials(c: Client): Promise<{ code?: string; human_message?: string; resolution?: unknown } | undefined> {
  const r = (await c.callTool({ name: 'get-structured-content', arguments: { location: 'New York' } })) as {
    isError?: boolean;
    content: { text: string }[];
    _meta?: Record<string, { code?: string }>;
  };
  assert.equal(r.isError, true);
  assert.match(r.content[0]!.text, /not this one \(POLICY_DENY\)/);
  assert.equal(r._meta?.['faramesh/denial']?.code, 'POLICY_DENY');
  const plain = (await c.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })) as {
    structuredContent?: { code?: string; human_message?: string; resolution?: unknown };
  };
  assert.equal(plain.structuredContent?.code, 'POLICY_DENY');
  return plain.structuredContent;
}
