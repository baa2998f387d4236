export * from './edge.js';
export { SocketTransport } from './transports/socket.js';
