/** The scaffold the fake cloud APIs share: HTTPS with a fresh self-signed certificate, the request body read whole, JSON answers. */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { selfSignedCert } from './daemon-helpers.js';

export type Send = (status: number, json: unknown, headers?: Record<string, string>) => void;

export interface TlsApi {
  server: Server;
  url: string;
  /** The certificate a client must trust (NODE_EXTRA_CA_CERTS). */
  caFile: string;
  stop(): void;
}

export async function startTlsApi(
  dir: string,
  name: string,
  handle: (req: IncomingMessage, body: string, send: Send, res: ServerResponse) => void,
): Promise<TlsApi> {
  const tls = selfSignedCert(dir, name);
  const server = createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () =>
      handle(
        req,
        body,
        (status, json, headers = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(json));
        },
        res,
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    server,
    url: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    caFile: tls.cert,
    stop() {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Answers 200 with `start` and then more JSON string for as long as the reader takes it, as a hostile or broken API could. */
export function endlessReply(res: ServerResponse, start: string): void {
  const chunk = Buffer.alloc(64 << 10, 'a');
  let open = true;
  res.on('close', () => (open = false));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(start);
  const pump = () => {
    while (open && res.write(chunk));
    if (open) res.once('drain', pump);
  };
  pump();
}
