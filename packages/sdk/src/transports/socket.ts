/**
 * SocketTransport: the daemon's agent socket. One JSON-RPC request per connection; the daemon
 * answers with one line and closes.
 */
import { createConnection } from 'node:net';
import { checkResult, TransportError, type ApprovalStatus, type GovernRequest, type GovernResult, type Transport } from '../wire.js';

export class SocketTransport implements Transport {
  private id = 0;

  constructor(readonly path: string) {}

  async govern(request: GovernRequest, timeoutMs: number): Promise<GovernResult> {
    const reply = (await this.exchange({ jsonrpc: '2.0', id: ++this.id, method: 'govern', params: request }, timeoutMs)) as {
      result?: unknown;
      error?: { message?: string };
    };
    if (reply.error) throw new TransportError(`the daemon refused the request: ${reply.error.message ?? 'error'}`, false);
    return checkResult(reply.result);
  }

  async poll(approvalId: string, agentId: string, timeoutMs: number): Promise<ApprovalStatus> {
    const reply = (await this.exchange({ type: 'poll_defer', agent_id: agentId, defer_token: approvalId }, timeoutMs)) as {
      status?: ApprovalStatus;
    };
    return reply.status ?? 'unknown';
  }

  private exchange(message: object, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.path);
      let data = '';
      let connected = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError(`${this.path}: no answer within ${timeoutMs} ms`, false));
      }, timeoutMs);
      socket.setEncoding('utf8');
      socket.on('connect', () => {
        connected = true;
        socket.write(`${JSON.stringify(message)}\n`);
      });
      socket.on('data', (d: string) => (data += d));
      socket.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new TransportError(
            `${this.path}: ${e.message}`,
            !connected && ['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES'].includes(e.code ?? ''),
          ),
        );
      });
      socket.on('end', () => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(data));
        } catch {
          reject(new TransportError(`${this.path}: the reply is not JSON`, false));
        }
      });
    });
  }
}
