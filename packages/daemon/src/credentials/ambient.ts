/**
 * Ambient credentials the launcher does not pass on to the agent (`runtime { strip_ambient_credentials }`,
 * on by default): cloud, secret-store, code-host and database secrets, which the broker provides per
 * call instead. Model API keys stay: the agent calls its model itself. The daemon never passes its
 * own to a stdio MCP server either (mcp/upstream.ts): a server's `env` names what it gets.
 */
export const AMBIENT_CREDENTIALS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_PASSWORD',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_OAUTH_ACCESS_TOKEN',
  'CLOUDSDK_AUTH_ACCESS_TOKEN',
  'VAULT_TOKEN',
  'VAULT_ROLE_ID',
  'VAULT_SECRET_ID',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITLAB_TOKEN',
  'NPM_TOKEN',
  'DATABASE_URL',
  'PGPASSWORD',
  'MYSQL_PWD',
  'STRIPE_API_KEY',
  'STRIPE_SECRET_KEY',
  'SLACK_BOT_TOKEN',
];

/**
 * Every variable the policy reads through `env()`: what the daemon reaches its providers, identity
 * providers, sinks and servers with (a Vault token, a client secret), whatever their names. Neither
 * the agent (its launcher strips them) nor a stdio MCP server inherits them: they are the daemon's.
 */
export function policyEnvNames(ir: object): string[] {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const ref = (v as { $env?: unknown }).$env;
      if (typeof ref === 'string') names.add(ref);
      else Object.values(v).forEach(walk);
    }
  };
  walk(ir);
  return [...names];
}

/**
 * What a stdio MCP server never inherits from the daemon's environment (its own `env` still gives it
 * anything by name): the ambient credentials, the operator's `runtime { strip_env }` (names, or
 * prefixes ending in `*`), and every variable the policy reads through `env()` (a provider's token,
 * whatever its name, is the daemon's).
 */
export function withheldFromServers(ir: { runtime: Record<string, unknown> }): (name: string) => boolean {
  const names = new Set<string>([...AMBIENT_CREDENTIALS, ...policyEnvNames(ir)]);
  const prefixes: string[] = [];
  const strip = ir.runtime.strip_env;
  if (Array.isArray(strip))
    for (const e of strip.map(String))
      if (e.endsWith('*')) prefixes.push(e.slice(0, -1));
      else names.add(e);
  return (name) => names.has(name) || prefixes.some((p) => name.startsWith(p));
}
