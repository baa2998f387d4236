import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { BodyError, readBody } from '../src/http-proxy/body.js';
import { reply, errorBody } from '../src/http-proxy/http-common.js';
import { raw } from './http-api-fixtures.js';

// A body that stalls was cut by destroying the request, which closed the socket first: the client
// heard nothing at all, not the 408 the daemon's routes (and the reverse proxy) answer with.
test(
  'a request body that stalls or grows too large is answered with a JSON error; a stall closes the connection, a large body is drained',
  { timeout: 20_000 },
  async () => {
    const server = createServer((req, res) => {
      readBody(req, 64, 200).then(
        (body) => reply(res, 200, { bytes: body.length }),
        (e: unknown) => {
          if (!(e instanceof BodyError)) throw e;
          // As the daemon's routes answer: a stall closes the connection, a body too large is drained.
          reply(res, e.status, errorBody(e.status, e.message), e.status === 408 ? { connection: 'close' } : {});
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const head = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
      const stalled = await raw(port, `${head}Content-Length: 50\r\n\r\n{"a`);
      assert.match(stalled, /^HTTP\/1\.1 408 /);
      assert.match(stalled, /"message":"the request body did not arrive within 200 ms"/);
      // The rest of a body too large is read and dropped: the client hears the 413, and the connection
      // serves its next request.
      const chunked = await raw(
        port,
        `${head}Transfer-Encoding: chunked\r\n\r\n50\r\n${'a'.repeat(80)}\r\n100000\r\n${'b'.repeat(0x100000)}\r\n0\r\n\r\n` +
          `${head}Content-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      assert.match(chunked, /^HTTP\/1\.1 413 /);
      assert.match(chunked, /at most 64 bytes/);
      assert.match(chunked, /\{"bytes":2\}$/);
      // An endless body is not read for ever after its 413, chunked or declared: the connection is cut.
      const endless = (framing: string) =>
        new Promise<string>((resolve) => {
          const sock = connect(port, '127.0.0.1');
          let got = '';
          let open = true;
          sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
          sock.on('error', () => {});
          sock.on('close', () => ((open = false), resolve(got)));
          sock.write(`${head}${framing}\r\n\r\n`);
          const chunk = framing.startsWith('Transfer') ? `10000\r\n${'c'.repeat(0x10000)}\r\n` : 'c'.repeat(0x10000);
          const pump = () => {
            while (open && sock.write(chunk));
            if (open) sock.once('drain', pump);
          };
          pump();
        });
      assert.match(await endless('Transfer-Encoding: chunked'), /^HTTP\/1\.1 413 /);
      assert.match(await endless('Content-Length: 1000000000000'), /^HTTP\/1\.1 413 /);
      const whole = await raw(port, `${head}Content-Length: 2\r\nConnection: close\r\n\r\n{}`);
      assert.match(whole, /\{"bytes":2\}$/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
);
