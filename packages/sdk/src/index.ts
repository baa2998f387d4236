export * from './edge.js';
export { SocketTransport } from './transports/socket.js';
export { credential, delegationToken } from './credential.js';
export type { CallCredential, CallGrant } from './govern.js';
