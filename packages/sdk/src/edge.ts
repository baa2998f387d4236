/**
 * `@faramesh/sdk/edge`: everything but the Unix-socket transport, with no `node:` import anywhere in
 * its module graph, for Workers and other edge runtimes (a test walks the graph to keep it so).
 */
export { governedTools, GovernedToolSet, type GovernedToolsOptions } from './tools.js';
export { argsObject, isGoverned } from './wrap.js';
export { Governor, type GovernOptions, type CallContext } from './govern.js';
export { ToolDeniedError, type Resolution, type DenialFields } from './errors.js';
export { HttpTransport, type HttpTransportOptions } from './transports/http.js';
export { governMcpServer, deniedCallResult, type McpGovernOptions } from './mcp.js';
export { StubTransport, type StubDecision } from './transports/stub.js';
export { transportFromEnv } from './transports/select.js';
export { TransportError, type Transport, type GovernRequest, type GovernResult, type ApprovalStatus, type SpawnEnded } from './wire.js';
