export * from './edge.js';
export { SocketTransport } from './transports/socket.js';
export { credential } from './credential.js';
export type { CallCredential } from './govern.js';
