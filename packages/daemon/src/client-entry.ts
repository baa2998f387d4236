/**
 * `@faramesh/daemon/client`: what a CLI needs to talk to a running daemon, without loading the
 * daemon itself (its engine, log and validators), so operator commands start quickly.
 */
export { operatorCall, requestLine, DaemonUnreachableError, OperatorError } from './client.js';
export {
  stackPaths,
  resolveStackPath,
  agentSocketMirror,
  proxyMirror,
  proxyCaFiles,
  DEFAULT_AGENT_SOCKET,
  DEFAULT_WAL_DIR,
  type StackPaths,
} from './stack/paths.js';
export { proxyPorts } from './stack/proxies.js';
export type { RuntimeSettings } from './stack/settings.js';
export { type Approval, type ApprovalStatus } from './core/approvals.js';
export type { TailPage, TailQuery } from './core/record-feed.js';
