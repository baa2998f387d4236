import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';
import type { PolicyIR } from '../ir.js';
import { overlaps } from '../patterns.js';
import { reportAt } from './report.js';

/**
 * Through the MCP proxy a tool is decided as `<server>/<tool>` (docs/mcp.md). A deny or defer that
 * names the tool bare (`deny shell_exec`, as the reference's Claude Code page writes it) never meets
 * a proxied call, so in an agent whose proxied calls something else permits (its default, or a rule
 * such as `permit files/*`) the call it was written to stop runs. Said where it can happen only: an
 * agent the proxy serves, in a stack that declares an `mcp_server`.
 */
export function checkMcpToolNames(ir: PolicyIR, diagnostics: Diagnostics, locate: Locations): void {
  if (ir.mcp_servers.length === 0) return;
  const shared = ir.runtime.mcp_proxy_port !== undefined;
  const example = ir.mcp_servers[0]!.name;
  for (const agent of ir.agents) {
    if (!shared && agent.enforcement?.mcp_proxy_port === undefined) continue;
    const rules = [...agent.rules, ...agent.phases.flatMap((p) => p.rules)];
    for (const rule of rules) {
      // One segment (`shell_exec`, `*`, `*_exec`) never matches `<server>/<tool>`; `**` does.
      if (rule.effect === 'permit' || rule.tool.includes('/') || rule.tool === '**') continue;
      const prefixed = ir.mcp_servers.map((m) => `${m.name}/${rule.tool}`);
      const permitted = agent.default === 'permit' || rules.some((r) => r.effect === 'permit' && prefixed.some((t) => overlaps(r.tool, t)));
      if (!permitted) continue;
      reportAt(
        diagnostics,
        locate,
        rule,
        'warning',
        'mcp-bare-tool',
        `agent "${agent.id}": ${rule.effect} ${rule.tool} names no MCP server, and the MCP proxy decides its calls as <server>/<tool> (${example}/${rule.tool}): this rule does not ${rule.effect === 'deny' ? 'stop' : 'hold'} calls made through the proxy, which ${agent.default === 'permit' ? "this agent's default permits" : "this agent's rules permit"}`,
        `name the server: ${rule.effect} ${example}/${rule.tool} (or */${rule.tool} for every server); a tool the agent calls through the SDK keeps its bare name`,
      );
    }
  }
}
