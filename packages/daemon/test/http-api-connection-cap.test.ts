/**
 * The HTTP API's connection cap: connections that never finish their headers cannot lock agents out
 * (a newcomer takes the place of one), while a connection serving a request is never the one dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { capConnections } from '../src/wire/http-cap.js';
import { MAX_HTTP_CONNECTIONS, ORIGIN_SHARE } from '../src/wire/line-server.js';
import { HttpApi } from '../src/wire/http-api.js';
import { selfSignedCert } from './tls-fixtures.js';
import { stubHandlers, stubHttpApi } from './http-api-fixtures.js';

/** Connections that send half a request's headers (or, `silent`, nothing) and then nothing, each open once this resolves. */
async function halfHeaders(port: number, n: number, silent = false): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect(port, '127.0.0.1', () => (silent || s.write('GET /healthz HTTP/1.1\r\nHost: 127.0'), resolve(s)));
          s.on('error', () => {});
        }),
    ),
  );
}

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    assert.ok(waited < 5000, 'not within 5 s');
    await sleep(10);
  }
}

function get(port: number, path: string, tls = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : request)({ host: '127.0.0.1', port, path, agent: false, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
    req.end();
  });
}

test('past the cap, connections sending half their headers give way: /healthz is still answered', { timeout: 30_000 }, async () => {
  const { dir } = selfSignedCert('localhost');
  const api = stubHttpApi(dir);
  const { port } = await api.listen({ host: '127.0.0.1', port: 0 });
  const flood = await halfHeaders(port, MAX_HTTP_CONNECTIONS + 50);
  try {
    await sleep(1200);
    const reply = await get(port, '/healthz');
    assert.equal(reply.status, 200);
    assert.match(reply.body, /READY/);
  } finally {
    for (const s of flood) s.destroy();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A server capped at `max` whose /hold requests are answered only when released. */
async function holding(max: number, tls?: { key: string; cert: string }) {
  const held: ServerResponse[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/hold') return void held.push(res);
    res.end('fast');
  };
  const server = tls ? createHttpsServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, handler) : createServer(handler);
  capConnections(server, max);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const release = () => held.splice(0).forEach((res) => res.end('held'));
  const close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return { port, held, release, close };
}

test('a connection serving a request is never evicted: at a cap of busy ones the newcomer is refused', { timeout: 30_000 }, async () => {
  const srv = await holding(4);
  try {
    const busy = Array.from({ length: 4 }, () => get(srv.port, '/hold'));
    await until(() => srv.held.length === 4);
    await sleep(1100);
    // Every connection is serving a request: the newcomer is the one closed.
    await assert.rejects(get(srv.port, '/fast'));
    srv.release();
    for (const reply of await Promise.all(busy)) assert.equal(reply.body, 'held');
  } finally {
    srv.release();
    await srv.close();
  }
});

test('at the cap a newcomer replaces a stalled sender, not the busy connection beside it (TLS too)', { timeout: 30_000 }, async () => {
  const { dir, key, cert } = selfSignedCert('localhost');
  for (const tls of [undefined, { key, cert }]) {
    const srv = await holding(2, tls);
    try {
      const busy = get(srv.port, '/hold', tls !== undefined);
      await until(() => srv.held.length === 1);
      // A raw connection: over TLS it stalls in its handshake, over plain HTTP in its headers.
      const [stalled] = await halfHeaders(srv.port, 1, tls !== undefined);
      const cut = new Promise((resolve) => stalled!.once('close', resolve));
      await sleep(1100);
      assert.equal((await get(srv.port, '/fast', tls !== undefined)).body, 'fast');
      await cut;
      srv.release();
      assert.equal((await busy).body, 'held');
    } finally {
      srv.release();
      await srv.close();
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test('at the cap an idle keep-alive connection gives way; the busy one stays', { timeout: 30_000 }, async () => {
  const srv = await holding(2);
  try {
    const busy = get(srv.port, '/hold');
    await until(() => srv.held.length === 1);
    // A keep-alive connection that has been answered and sits idle.
    const idle = connect(srv.port, '127.0.0.1');
    idle.on('error', () => {});
    const answered = new Promise((resolve) => idle.once('data', resolve));
    idle.write('GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await answered;
    const cut = new Promise((resolve) => idle.once('close', resolve));
    assert.equal((await get(srv.port, '/fast')).body, 'fast');
    await cut;
    srv.release();
    assert.equal((await busy).body, 'held');
  } finally {
    srv.release();
    await srv.close();
  }
});

test(
  "one agent's token keeps only its share of the API busy: past it a request is refused with 429, another agent is served",
  { timeout: 30_000 },
  async () => {
    const { dir } = selfSignedCert('localhost');
    const handlers = stubHandlers(dir);
    const a = (await handlers.tokens.issue('agent', 'a', 'a', Date.now())).token;
    const b = (await handlers.tokens.issue('agent', 'b', 'b', Date.now())).token;
    const api = new HttpApi(handlers);
    const { port } = await api.listen({ host: '127.0.0.1', port: 0 });
    const share = MAX_HTTP_CONNECTIONS / ORIGIN_SHARE;
    // Requests of agent a whose bodies are announced and only begun: each keeps its connection busy.
    const held = Array.from({ length: share + 1 }, () => {
      let data = '';
      const s = connect(port, '127.0.0.1', () =>
        s.write(
          `POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${a}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ag`,
        ),
      );
      s.on('data', (d: Buffer) => (data += d.toString())).on('error', () => {});
      return { s, reply: () => data };
    });
    try {
      await until(() => held.some((h) => h.reply() !== ''));
      await sleep(200);
      const refused = held.filter((h) => /^HTTP\/1\.1 429 /.test(h.reply()));
      assert.equal(refused.length, 1);
      assert.match(refused[0]!.reply(), /retry-after: 5/i);
      const res = await fetch(`http://127.0.0.1:${port}/v1/evaluate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${b}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 200, 'another agent is served');
    } finally {
      for (const h of held) h.s.destroy();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
