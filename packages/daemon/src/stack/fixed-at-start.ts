/**
 * What a running daemon takes from its policy only when it starts: the log it writes, the sockets
 * and ports it listens on, TLS inspection, the supervised agent. A hot swap that would change any of
 * them is refused and names them, rather than reported as applied while the daemon keeps the old
 * ones; `runtime { mode }`, `approval_ttl` and everything else swap with the policy.
 */
import type { PolicyIR } from '@faramesh/fpl';
import { canonicalJson } from '@faramesh/protocol';
import { proxyPorts } from './proxies.js';
import { runtimeSettings } from './settings.js';

const RUNTIME_FIELDS = ['https_inspection', 'https_inspection_hosts', 'supervised_command', 'supervisor_restart', 'agent_env'] as const;

/** The settings fixed at start that differ between the running policy and the next one. */
export function fixedAtStartChanges(running: PolicyIR, next: PolicyIR, stackDir: string, env: NodeJS.ProcessEnv): string[] {
  const changed: string[] = [];
  const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
  const settings = (ir: PolicyIR) => {
    try {
      return runtimeSettings(ir.runtime, stackDir, env);
    } catch {
      return undefined;
    }
  };
  const [a, b] = [settings(running), settings(next)];
  // Settings the daemon cannot resolve (an env() unset where it runs) are no change of these: putting
  // the policy in use refuses it, naming the variable.
  if (a && b) {
    if (a.walDir !== b.walDir) changed.push('runtime.wal_dir');
    if (a.agentSocket !== b.agentSocket) changed.push('runtime.socket');
    if (!same(a.http, b.http)) changed.push('runtime.http_listen (and its TLS files)');
  }
  for (const field of ['mcp_proxy_port', 'http_proxy_port'] as const)
    if (!same(proxyPorts(running, field), proxyPorts(next, field))) changed.push(`${field} (runtime or an agent's enforcement)`);
  for (const field of RUNTIME_FIELDS) if (!same(running.runtime[field], next.runtime[field])) changed.push(`runtime.${field}`);
  return changed;
}
