/** A ReverseProxy in front of a loopback upstream, both listening, for tests of what goes through it. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReverseProxy } from '../src/http-proxy/reverse.js';
import { RouteTable } from '../src/http-proxy/routes.js';
import type { GovernParams, GovernResult } from '../src/wire/agent-protocol.js';

export interface ReverseFixture {
  /** The proxy's base URL (`http://127.0.0.1:<port>`). */
  url: string;
  close(): void;
}

async function listening(handler: RequestListener): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}

/** `upstream` serves what the proxy forwards; every decision is `decide`'s (a permit when not given), routed by `table`. */
export async function reverseFixture(
  upstream: RequestListener,
  o: { table?: () => RouteTable; decide?: (p: GovernParams) => GovernResult } = {},
): Promise<ReverseFixture> {
  const up = await listening(upstream);
  const reverse = new ReverseProxy({
    decide: o.decide ?? (() => ({ effect: 'PERMIT', action_id: 'action-1' }) as GovernResult),
    principal: () => undefined,
    ready: () => true,
    config: () => ({ table: o.table?.() ?? new RouteTable([]), upstream: new URL(`http://127.0.0.1:${up.port}`), agent: 'agent' }),
  });
  const front = await listening((req, res) => void reverse.handle(req, res));
  return {
    url: `http://127.0.0.1:${front.port}`,
    close() {
      reverse.close();
      front.server.close();
      up.server.close();
    },
  };
}
