/** The MCP proxy's configuration, read from the compiled policy. */
import type { PolicyIR } from '@faramesh/fpl';
import type { McpServerSpec } from './upstream.js';

/** The policy's `mcp_server` blocks. */
export function mcpServers(ir: PolicyIR): McpServerSpec[] {
  // A policy compiled before mcp_server existed has none.
  return ir.mcp_servers ?? [];
}

/** A port field (`mcp_proxy_port = 8081`), if set. */
export function portOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined;
}
