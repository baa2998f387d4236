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
