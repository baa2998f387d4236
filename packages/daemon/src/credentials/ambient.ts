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
