export { Daemon, HaltError, DAEMON_VERSION, type DaemonOptions, type DevOptions } from './daemon.js';
export { serve, type ServeOptions } from './serve.js';
export type { TailPage, TailQuery } from './core/record-feed.js';
export { Lifecycle, type LifecycleState } from './lifecycle.js';
export {
  stackPaths,
  agentSocketMirror,
  proxyMirror,
  resolveStackPath,
  DEFAULT_AGENT_SOCKET,
  DEFAULT_WAL_DIR,
  type StackPaths,
} from './stack/paths.js';
export { mcpServers, portOf, proxyPorts } from './stack/proxies.js';
export { unsupportedFeature } from './stack/unsupported.js';
export { runtimeSettings, SettingsError, type RuntimeSettings } from './stack/settings.js';
export { compiledPolicy, writeCompiled, loadCompiled, versionFiles, CompiledStateError, type CompiledPolicy } from './stack/compiled.js';
export { operatorCall, requestLine, DaemonUnreachableError, OperatorError } from './client.js';
export { answers, MAX_REQUEST_BYTES } from './wire/line-server.js';
export { type GovernResult } from './wire/agent-protocol.js';
export { type Approval, type ApprovalStatus } from './core/approvals.js';
export { PrincipalGate, withKeySetDigests } from './core/principals.js';
export { Alerts, notifyTargets } from './outbound/alerts.js';
export { checkSinks, type SinkStatus } from './outbound/sinks.js';
export { AMBIENT_CREDENTIALS, policyEnvNames } from './credentials/ambient.js';
export { CredentialBroker, type Issued, type Unavailable, type CredentialRef } from './credentials/broker.js';
export { checkpointSigner, signingProvider } from './signing/checkpoint-signer.js';
export { StackCa } from './http-proxy/stack-ca.js';
export { buildHttpRoutes } from './stack/http-routes.js';
export { unnamed } from './http-proxy/routes.js';
export { reverseConfig } from './http-proxy/reverse.js';
export { WORKLOAD_PROTO } from './credentials/spiffe.js';
export { commandArgv } from './supervisor/command.js';
export { Supervisor, type ChildInfo } from './supervisor/supervisor.js';
export { compactStopped, type StoppedCompaction } from './core/compact-stopped.js';
