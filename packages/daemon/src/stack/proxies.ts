/** The proxies' configuration, read from the compiled policy. */
import type { PolicyIR } from '@faramesh/fpl';
import type { McpServerSpec } from '../mcp/upstream.js';

/** The policy's `mcp_server` blocks. */
export function mcpServers(ir: PolicyIR): McpServerSpec[] {
  // A policy compiled before mcp_server existed has none.
  return ir.mcp_servers ?? [];
}

/** A port field (`mcp_proxy_port = 8081`), if set. */
export function portOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined;
}

/** A proxy's ports: the stack's shared one (`runtime { <field> }`) and each agent's own (`enforcement { <field> }`). */
export function proxyPorts(ir: PolicyIR, field: 'mcp_proxy_port' | 'http_proxy_port') {
  const own = ir.agents.flatMap((a) => {
    const port = portOf(a.enforcement?.[field]);
    return port === undefined ? [] : [{ agent: a.id, port }];
  });
  return { shared: portOf(ir.runtime[field]), own };
}

/**
 * For a policy: why a call asked for over the socket or `/v1/evaluate` may not be handed `tool`'s
 * credential, because a proxy of this stack governs the tool and attaches the credential at its
 * boundary, so that it never enters the agent's process. Undefined: an SDK tool, whose credential the
 * shim carries. Built once per policy: the answer costs a few lookups on the hot path.
 */
export function proxyOnlyCredentials(ir: PolicyIR, reverseRoutes: boolean): (tool: string) => string | undefined {
  const servers = new Set(mcpServers(ir).map((s) => s.name));
  const forward = proxyPorts(ir, 'http_proxy_port');
  const http = forward.shared !== undefined || forward.own.length > 0 || reverseRoutes;
  const routes = new Set(reverseRoutes ? (ir.http_routes ?? []).map((r) => r.tool) : []);
  return (tool) => {
    const server = tool.slice(0, tool.indexOf('/'));
    if (servers.has(server))
      return `${tool} is a tool of mcp_server "${server}": its credential is attached by the MCP proxy, never handed to an SDK caller`;
    if ((http && server === 'http') || routes.has(tool))
      return `${tool} is governed by the HTTP proxy: its credential is attached there, never handed to an SDK caller`;
    return undefined;
  };
}
