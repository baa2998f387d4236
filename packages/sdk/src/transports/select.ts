/**
 * Choosing a transport from the environment, in the docs' order: FARAMESH_REMOTE_URL (a remote
 * daemon over HTTPS), FARAMESH_SOCKET (the local agent socket), FARAMESH_BASE_URL (a local daemon
 * over HTTP), then the daemon's default socket if it is there. The socket transport is imported only
 * when chosen, so bundles for edge runtimes never pull in `node:net`.
 */
import { HttpTransport } from './http.js';
import { NoTransportError, type Transport } from '../wire.js';

type Env = Record<string, string | undefined>;

export async function transportFromEnv(env: Env): Promise<Transport> {
  const token = env.FARAMESH_TOKEN;
  if (env.FARAMESH_REMOTE_URL) return new HttpTransport(env.FARAMESH_REMOTE_URL, token ? { token } : {});
  if (env.FARAMESH_SOCKET) {
    const { SocketTransport } = await import('./socket.js');
    return new SocketTransport(env.FARAMESH_SOCKET);
  }
  if (env.FARAMESH_BASE_URL) return new HttpTransport(env.FARAMESH_BASE_URL, token ? { token } : {});
  // Last, the daemon's default socket, where there are sockets (never in an edge runtime).
  if (onNode()) {
    const { SocketTransport, defaultSocketPath } = await import('./socket.js');
    const path = defaultSocketPath(env);
    if (path) return new SocketTransport(path, { found: true });
  }
  throw new NoTransportError(
    'no Faramesh transport: set FARAMESH_SOCKET (start the agent with .faramesh/bin/agent), FARAMESH_REMOTE_URL or FARAMESH_BASE_URL, or pass { transport } (nor is there a daemon at the default ~/.faramesh/runtime/faramesh.sock)',
  );
}

const onNode = () => typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';

/** The process environment where there is one (not in every edge runtime). */
export function processEnv(): Env {
  const g = globalThis as { process?: { env?: Env } };
  return g.process?.env ?? {};
}
