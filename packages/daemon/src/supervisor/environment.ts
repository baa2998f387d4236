/**
 * The environment a supervised agent starts with: the OS tier's allowlist (and `runtime { agent_env }`)
 * taken from the daemon's own, so the daemon's secrets (provider tokens, SMTP and webhook URLs, cloud
 * keys) never reach it. The launcher then adds the stack's agent.env.
 */
import { BASE_ENV_ALLOW } from '@faramesh/sandbox';

const matches = (pattern: string, name: string) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern);

export function supervisedEnv(daemonEnv: NodeJS.ProcessEnv, agentEnv: string[] = []): NodeJS.ProcessEnv {
  const allow = [...BASE_ENV_ALLOW, 'HOME', ...agentEnv];
  return Object.fromEntries(Object.entries(daemonEnv).filter(([k, v]) => v !== undefined && allow.some((p) => matches(p, k))));
}
