/**
 * faramesh mcp <server> [--dir] [--agent]: the MCP proxy for clients that can only launch a command
 * (an `mcpServers` entry with `command`). It speaks MCP on stdin/stdout and relays every message, as
 * it is, to the running daemon's proxy at /mcp/<server> — so the daemon decides each call, exactly
 * as over HTTP. The agent is `--agent` or FARAMESH_AGENT_ID: its own port when it has one, else the
 * shared port with FARAMESH_TOKEN (an agent token) as the bearer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface BridgeOptions {
  dir: string;
  agent?: string;
}

export async function mcpBridge(server: string, o: BridgeOptions): Promise<number> {
  const fail = (why: string) => (process.stderr.write(`faramesh mcp: ${why}\n`), 1);
  // In an OS-tier sandbox the launcher names the agent's proxy (its own port, else the shared one).
  const given = process.env.FARAMESH_MCP_PROXY;
  if (given) return relay(new URL(`${given.replace(/\/+$/, '')}/mcp/${encodeURIComponent(server)}`), process.env.FARAMESH_TOKEN);
  const portsFile = join(resolve(o.dir), '.faramesh', 'runtime', 'mcp.json');
  if (!existsSync(portsFile))
    return fail(`no MCP proxy is running for ${resolve(o.dir)} (set runtime { mcp_proxy_port } and run faramesh apply)`);
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { shared?: number; agents?: Record<string, number> };
  const agent = o.agent ?? process.env.FARAMESH_AGENT_ID;
  const own = agent ? ports.agents?.[agent] : undefined;
  const token = process.env.FARAMESH_TOKEN;
  if (own === undefined && (ports.shared === undefined || !token))
    return fail(
      agent && ports.shared === undefined
        ? `agent ${agent} has no MCP proxy port of its own, and the stack has no shared one`
        : 'the shared MCP port needs an agent token: set FARAMESH_TOKEN (faramesh token issue --agent <id>)',
    );
  return relay(new URL(`http://127.0.0.1:${own ?? ports.shared}/mcp/${encodeURIComponent(server)}`), own === undefined ? token : undefined);
}

/** stdin/stdout ⇄ the proxy at `url` (with `token` as the bearer, on a shared port). */
async function relay(url: URL, token: string | undefined): Promise<number> {
  const upstream = new StreamableHTTPClientTransport(url, token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {});
  const local = new StdioServerTransport();
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => (done = r));
  local.onmessage = (m) => void upstream.send(m).catch((e: Error) => reportError(m, e));
  upstream.onmessage = (m) => void local.send(m);
  local.onclose = () => void upstream.close().finally(() => done(0));
  upstream.onclose = () => void local.close().finally(() => done(0));
  upstream.onerror = (e) => process.stderr.write(`faramesh mcp: ${e.message}\n`);
  // A request the proxy could not take is answered here, so the client is never left waiting.
  const reportError = (m: object, e: Error) => {
    const id = (m as { id?: string | number }).id;
    if (id !== undefined)
      void local.send({ jsonrpc: '2.0', id, error: { code: -32603, message: `the Faramesh MCP proxy at ${url.href}: ${e.message}` } });
  };
  await upstream.start();
  await local.start();
  return finished;
}
