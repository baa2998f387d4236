/**
 * A Unix socket whose connections are served by another server: how the agent socket and the proxy
 * ports reach sandboxed agents, which have no network and no view of `.faramesh/` (their sandbox binds
 * this socket). Each connection is handed over as if it had arrived on the original listener.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { bindUnix } from './line-server.js';

/** The longest path a Unix socket address holds (sun_path, with its terminating NUL). */
export const MAX_SOCKET_PATH = 107;

/** Anything that serves connections handed to it (an http.Server, a net.Server). */
export interface Adopter {
  emit(event: 'connection', socket: Socket): boolean;
}

/**
 * A proxy port's mirror. Its connections count against the port's own cap: the port's listener is
 * capped with capConnections, which sees every connection handed over by `emit`. (Node's
 * `maxConnections` is checked only on accept, and would only drop newcomers besides.)
 */
export async function mirrorOnUnix(target: Adopter, path: string): Promise<Server> {
  const mirror = openMirror(target, path);
  await mirror.listening;
  return mirror.server;
}

/** The mirror, bound before this returns (see LineServer.bind); `listening` is the outcome. */
export function openMirror(target: Adopter, path: string): { server: Server; listening: Promise<void> } {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw new Error(`${path} is too long for a Unix socket (${MAX_SOCKET_PATH} bytes)`);
  // Traversable by the agent's user, not listable; the parent too (it is shared by the stacks of this user).
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  chmodSync(dirname(path), 0o711);
  chmodSync(dirname(dirname(path)), 0o711);
  if (existsSync(path)) unlinkSync(path);
  const server = createServer({ allowHalfOpen: true }, (socket) => target.emit('connection', socket));
  return { server, listening: bindUnix(server, path, 0o666) };
}
