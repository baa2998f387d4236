/**
 * Something posing as the daemon on a Unix socket, for the SDK's tests: it acknowledges `keep_open`
 * (or refuses it, as an older daemon would) and hands every other request line to `answer`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function fakeDaemon(
  answer: (request: { id: number; method: string }, socket: Socket, server: Server) => void,
  keepOpen = true,
): Promise<{ path: string; close(): void }> {
  const path = join(mkdtempSync(join(tmpdir(), 'fm-fake-')), 'd.sock');
  const server = createServer((s: Socket) => {
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, nl)) as { id: number; method: string };
        buf = buf.slice(nl + 1);
        if (m.method !== 'keep_open') answer(m, s, server);
        else {
          const ack = keepOpen ? { result: { keep_open: true } } : { error: { code: -32601, message: 'no' } };
          s.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, ...ack })}\n`);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, close: () => void server.close() };
}
